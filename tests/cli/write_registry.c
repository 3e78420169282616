/* write_registry: writes a registry.json with the registry module, for
 * test_cli.py's `status` tests.
 *
 *   write_registry OUT SEEN PATH OFFSET [PATH OFFSET]...
 *
 * Each PATH is opened and its identity computed as the shipper would
 * (file_identity_compute, 1024 bytes), then acknowledged up to OFFSET at
 * wall-clock second SEEN; the file is saved with registry_save. A PATH
 * that does not exist is not possible here: the test removes or renames
 * files after writing the registry. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "file_identity.h"
#include "registry.h"

static int ack(struct registry *r, const char *path, const char *offset,
               int64_t seen, struct sl_err *err)
{
    struct file_identity id;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return sl_err_set(err, SL_EIO, "cannot open '%s'", path);
    int rc = file_identity_compute(fd, FILE_IDENTITY_DEFAULT_BYTES, &id, err);
    close(fd);
    if (rc == 0)
        rc = registry_add(r, &id, id.ino * 0x9e3779b97f4a7c15ull, path,
                          strtoull(offset, NULL, 10), seen, err);
    return rc;
}

int main(int argc, char **argv)
{
    struct registry_config cfg;
    struct sl_err err = {0};
    if (argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: write_registry OUT SEEN [PATH OFFSET]...\n");
        return 2;
    }
    registry_config_init(&cfg);
    struct registry *r = registry_new(&cfg, &err);
    int64_t seen = strtoll(argv[2], NULL, 10);
    int rc = r == NULL;
    for (int i = 3; rc == 0 && i + 1 < argc; i += 2)
        rc = ack(r, argv[i], argv[i + 1], seen, &err) < 0;
    if (rc == 0 && registry_save(r, argv[1], &err) != REGISTRY_SAVED)
        rc = 1;
    if (rc != 0)
        fprintf(stderr, "write_registry: %s\n", err.msg);
    registry_free(r);
    return rc;
}
