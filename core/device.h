/* Where work runs, as scenario ("sim": {"device": ...}) and training ("device") files say it:
 * "cpu" always on the CPU; "cuda" and "auto" on the GPU when the CUDA backend is compiled in, a
 * device is usable and the work is one the GPU kernels take, otherwise on the CPU with a one-line
 * note (the programs decide; core only carries the choice). */
#ifndef AXM_DEVICE_H
#define AXM_DEVICE_H

typedef enum axm_device { AXM_DEV_AUTO = 0, AXM_DEV_CPU = 1, AXM_DEV_CUDA = 2 } axm_device;

/* The names in the enum's order, NULL-terminated (for parsers that take a list of names). */
extern const char *const axm_device_names[];
/* "auto", "cpu", "cuda" ("?" for anything else) */
const char *axm_device_name(axm_device d);
/* The enum of a name ("auto", "cpu", "cuda"); 0, or -1 for another name (*out untouched). */
int axm_device_parse(const char *name, axm_device *out);

#endif
