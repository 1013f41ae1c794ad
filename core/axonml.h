/* axonml: the library's one public header. */
#ifndef AXONML_H
#define AXONML_H

#include "err.h"
#include "field.h"
#include "model.h"
#include "monitor.h"
#include "sim.h"
#include "thresh.h"
#include "version.h"
#include "wave.h"

#endif
