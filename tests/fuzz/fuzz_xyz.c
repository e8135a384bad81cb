/* libFuzzer harness: any bytes as an extended-XYZ file through the reader of the structured
 * golden check must give a status (and, when it reads, a frame whose numbers are finite),
 * never a crash. The reader is compiled into the harness: it is internal to the checks. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "xyz.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "/tmp/e3c_fuzz_xyz_%ld.xyz", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    xyz_frame frame = {0};
    if (xyz_read(path, 4096, &frame) == E3C_OK) {
        if (frame.n < 1 || frame.n > 4096)
            abort();
        for (int64_t i = 0; i < 3 * frame.n; i++)
            if (!isfinite(frame.positions[i]))
                abort();
        for (int64_t i = 0; i < frame.n; i++)
            if (!frame.species[i] || !frame.species[i][0])
                abort();
        xyz_frame_free(&frame);
    }
    return 0;
}
