/* loop_own.c: the file the shipper writes its events to, told to every
 * file input so that none reads it (loop_priv.h, in_file_set_own_output).
 *
 * `sluice-shipper run > /var/log/sluice-out.log` with the stdout output
 * and paths matching that file read its own events as new lines and shipped
 * them again, each time quoted once more: one event a second became a
 * line twice as long a second later, for ever. Only a regular file can be
 * matched by paths: a terminal or a pipe is none of theirs. */
#include "loop_priv.h"

#include <sys/stat.h>

void loop_note_own_output(struct loop *l)
{
    struct stat st;
    bool file = l->sc->output.stdout_node != NULL && fstat(1, &st) == 0 &&
                S_ISREG(st.st_mode);
    for (size_t i = 0; i < l->nin; i++)
        if (l->in[i].file != NULL)
            in_file_set_own_output(l->in[i].file, file ? st.st_dev : 0,
                                   file ? st.st_ino : 0);
}
