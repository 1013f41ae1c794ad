/* Progress bar for long work on a terminal: bar, rate, ETA, optional postfix. Draws only when the
 * stream is a terminal (or when forced); otherwise silent, so logs and pipes stay clean. */
#ifndef AXM_PROGRESS_H
#define AXM_PROGRESS_H

#include <stdio.h>

typedef struct axm_progress axm_progress;

/* unit: what is counted ("fibers", "steps", "thresholds"). */
axm_progress *axm_progress_create(const char *label, const char *unit, long total, FILE *out);
void axm_progress_force(axm_progress *p, int on);
/* Redraws at most ~10 times a second (always for done == total). postfix may be NULL. */
void axm_progress_update(axm_progress *p, long done, const char *postfix);
/* Final line with the elapsed time and mean rate; then destroys. */
void axm_progress_finish(axm_progress *p);
double axm_now_s(void); /* monotonic seconds */

#endif
