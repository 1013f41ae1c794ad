#include "interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* A signal handler can only reach file-scope state: this flag is the one mutable global. */
static volatile int interrupted;

static void on_signal(int sig)
{
    if (interrupted) _exit(128 + sig);
    interrupted = 1;
}

const volatile int *axm_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &interrupted;
}

int axm_interrupted(void) { return interrupted; }
