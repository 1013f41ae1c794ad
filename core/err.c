#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int axm_fail(axm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void axm_err_clear(axm_err *err)
{
    if (err) {
        err->code = AXM_OK;
        err->msg[0] = '\0';
    }
}

int axm_exit_status(int code)
{
    if (code == AXM_OK) return 0;
    return code == AXM_ERR_INPUT ? 2 : 1;
}

const char *axm_prec_name(axm_prec p) { return p == AXM_FP32 ? "fp32" : "fp64"; }
