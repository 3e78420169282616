/* loop_own.c: the file the shipper writes its events to, and its
 * data_dir (whose registry and lock), told to every file input so that none
 * reads them (loop_priv.h,
 * in_file_set_own_output, in_file_set_own_dir).
 *
 * `sluice-shipper run > /var/log/sluice-out.log` with the stdout output
 * and paths matching that file read its own events as new lines and shipped
 * them again, each time quoted once more: one event a second became a
 * line twice as long a second later, for ever. Only a regular file can be
 * matched by paths: a terminal or a pipe is none of theirs. A data_dir
 * under paths (`**` over /var) did the same with the registry: a new file
 * at each save, each of its lines an event, each a new registry entry. */
#define _DEFAULT_SOURCE /* realpath */
#include "loop_priv.h"

#include <stdlib.h>
#include <sys/stat.h>

void loop_note_own_output(struct loop *l)
{
    struct stat st;
    bool file = l->sc->output.stdout_node != NULL && fstat(1, &st) == 0 &&
                S_ISREG(st.st_mode);
    const char *real = realpath(l->sc->data_dir, l->data_dir_real);
    for (size_t i = 0; i < l->nin; i++) {
        if (l->in[i].file == NULL)
            continue;
        in_file_set_own_output(l->in[i].file, file ? st.st_dev : 0,
                               file ? st.st_ino : 0);
        in_file_set_own_dir(l->in[i].file, l->sc->data_dir, real);
    }
}
