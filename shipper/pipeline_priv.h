/* pipeline_priv.h: what pipe_input.c and pipeline.c share. */
#ifndef PIPELINE_PRIV_H
#define PIPELINE_PRIV_H

#include <stdio.h>

#include "container_log.h"
#include "event_base.h"
#include "grok.h"
#include "multiline.h"
#include "pipeline.h"

struct pipe_input {
    char name[32]; /* "inputs[0]" */
    enum container_log_format format;
    size_t max_line; /* bytes of a line (a record's text), at most */
    struct multiline_config ml;
    /* checked and compiled once; every source's joiner borrows them.
     * NULL: no multiline */
    struct multiline_rules *ml_rules;
    struct grok_library *patterns; /* the multiline pattern's, or NULL */
    struct event_base *base;
    struct proc_chain *chain;
};

#endif
