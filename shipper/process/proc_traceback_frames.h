/* proc_traceback_frames.h: stacks that JSON loggers write as arrays of
 * objects (zerolog's pkgerrors "stack", structlog's dict_tracebacks
 * "exception") as the text their language prints, for the traceback
 * processor (proc_traceback_frames.c has the shapes). */
#ifndef PROC_TRACEBACK_FRAMES_H
#define PROC_TRACEBACK_FRAMES_H

#include <stdbool.h>

#include "sl_event.h"

/* true with *out the text, in ev's arena, when v is such an array; false
 * when it is not (or out of memory). */
bool tb_frames_text(struct sl_event *ev, const struct sl_value *v,
                    struct sl_slice *out);

#endif
