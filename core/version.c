#include "version.h"

#ifndef AXM_BUILD_REV
#define AXM_BUILD_REV "unknown"
#endif
#ifndef AXM_BUILD_BACKENDS
#define AXM_BUILD_BACKENDS "cpu"
#endif
#ifndef AXM_BUILD_TREE
#define AXM_BUILD_TREE ""
#endif
#ifndef AXM_BUILD_FLAGS
#define AXM_BUILD_FLAGS ""
#endif

const char *axm_version(void) { return AXM_VERSION; }
const char *axm_build_rev(void) { return AXM_BUILD_REV; }
const char *axm_build_backends(void) { return AXM_BUILD_BACKENDS; }
const char *axm_build_flags(void) { return AXM_BUILD_FLAGS; }
const char *axm_build_tree(void) { return AXM_BUILD_TREE; }
