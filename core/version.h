/* Version and build information (axonml info). */
#ifndef AXM_VERSION_H
#define AXM_VERSION_H

#define AXM_VERSION "0.1.0"

const char *axm_version(void);
const char *axm_build_rev(void);
const char *axm_build_backends(void); /* "cpu" or "cpu cuda" */
const char *axm_build_flags(void);
/* The folder the library was built in (the axonml tree: presets/, weights/), "" if unknown; the
 * last place relative file names in configs are looked for (axm_find_file). */
const char *axm_build_tree(void);

#endif
