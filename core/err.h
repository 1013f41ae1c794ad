/* Error reporting: every fallible call returns an axm_code and fills an axm_err with one line
 * that names the file, field and expected value where there is one. */
#ifndef AXM_ERR_H
#define AXM_ERR_H

typedef enum axm_code {
    AXM_OK = 0,
    AXM_ERR_RUNTIME = 1,   /* numerical failure, backend failure: CLI exit 1 */
    AXM_ERR_INPUT = 2,     /* bad config, bad file, bad argument: CLI exit 2 */
    AXM_ERR_NOMEM = 3,
    AXM_ERR_IO = 4,        /* could not write an output */
    AXM_ERR_CANCELLED = 5  /* the caller's cancel flag was raised (Ctrl-C) */
} axm_code;

typedef struct axm_err {
    int code;
    char msg[512];
} axm_err;

/* Sets err (if not NULL) and returns code, so that callers can `return axm_fail(err, ...)`. */
int axm_fail(axm_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void axm_err_clear(axm_err *err);
/* Exit status for programs: 0 ok, 2 bad input, 1 anything else. */
int axm_exit_status(int code);

/* Precision of a simulation's state and arithmetic. */
typedef enum axm_prec { AXM_FP32 = 0, AXM_FP64 = 1 } axm_prec;
const char *axm_prec_name(axm_prec p);

#endif
