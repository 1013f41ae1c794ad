/* Ctrl-C handling for long work: the first SIGINT/SIGTERM raises a flag that the core polls
 * (axm_run_opts.cancel), so work stops at a clean point and outputs are saved; a second one
 * exits at once. */
#ifndef AXM_INTERRUPT_H
#define AXM_INTERRUPT_H

const volatile int *axm_interrupt_install(void);
int axm_interrupted(void);

#endif
