/* xlu-cfg-get FILE [KEY...] -- read FILE with libxlutil, the config reader of xl (libxen-dev,
   link -lxlutil), and print the value of each KEY that FILE sets, as one JSON object:
   {"KEY": "value", "LIST": ["a", "b"], ...}; a KEY that FILE does not set is left out.

   xl reads its global config (/etc/xen/xl.conf) with the same xlu_cfg_readfile and no other
   checker exists for it. libxlutil has no public way to list a file's keys, so the caller names
   them (test_artefacts.py: the keys xl.conf(5) documents and every `NAME =` of the file).
   Exit 0: parsed; 1: libxlutil refused the file (its messages are on stderr); 2: usage.
   The project's own; built into boot/build/xlu-cfg-get by scripts/install-validators. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <libxlutil.h>

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [KEY...]\n", argv[0]);
        return 2;
    }
    XLU_Config *cfg = xlu_cfg_init(stderr, argv[1]);
    if (!cfg) {
        perror("xlu_cfg_init");
        return 2;
    }
    int rc = xlu_cfg_readfile(cfg, argv[1]);
    if (rc) {
        fprintf(stderr, "%s: xlu_cfg_readfile failed (%d)\n", argv[1], rc);
        xlu_cfg_destroy(cfg);
        return 1;
    }
    const char *sep = "";
    putchar('{');
    for (int i = 2; i < argc; i++) {
        const char *value;
        XLU_ConfigList *list;
        int n;
        if (!xlu_cfg_get_string(cfg, argv[i], &value, 1)) {
            printf("%s", sep);
            json_string(argv[i]);
            printf(": ");
            json_string(value);
        } else if (!xlu_cfg_get_list(cfg, argv[i], &list, &n, 1)) {
            printf("%s", sep);
            json_string(argv[i]);
            printf(": [");
            for (int j = 0; j < n; j++) {
                const char *item = xlu_cfg_get_listitem(list, j);
                printf("%s", j ? ", " : "");
                if (item)
                    json_string(item);
                else
                    printf("null");
            }
            putchar(']');
        } else {
            continue;
        }
        sep = ", ";
    }
    printf("}\n");
    xlu_cfg_destroy(cfg);
    return 0;
}
