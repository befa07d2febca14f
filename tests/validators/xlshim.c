/* xlshim.so -- LD_PRELOAD shim for the xenfab test oracle check_xl_cfg.sh.
   Lets `xl -N create CFG` (dry run: parse a domU config with xl's real parser
   and print the resulting libxl_domain_config as JSON) run on a machine without
   Xen: fakes the libxc/xenstore handles and the few hypervisor queries that xl
   makes before the dry run returns. Never use it for anything but dry runs.
   Copied from the xenfab test oracles (xlshim.c); only this comment changed. Built into
   boot/build/xlshim.so by scripts/install-validators (or check_xl_cfg.sh). */
#include <string.h>
#include <errno.h>
#include <xenctrl.h>
static char fake_xc[4096], fake_xs[4096];
xc_interface *xc_interface_open(xentoollog_logger *a, xentoollog_logger *b, unsigned f)
{ return (xc_interface *)fake_xc; }
int xc_interface_close(xc_interface *x) { return 0; }
void *xs_open(unsigned long f) { return fake_xs; }
void *xs_daemon_open(void) { return fake_xs; }
void *xs_domain_open(void) { return fake_xs; }
void xs_close(void *h) { }
void xs_daemon_close(void *h) { }
int xc_get_max_cpus(xc_interface *x) { return 64; }
int xc_get_online_cpus(xc_interface *x) { return 2; }
int xc_get_max_nodes(xc_interface *x) { return 1; }
int xc_version(xc_interface *x, int cmd, void *arg)
{
    switch (cmd) {
    case XENVER_version: return (4 << 16) | 17;
    case XENVER_extraversion: strcpy(arg, ".0"); return 0;
    case XENVER_compile_info: memset(arg, 0, sizeof(xen_compile_info_t)); return 0;
    case XENVER_capabilities: strcpy(arg, "xen-3.0-x86_64 hvm-3.0-x86_64"); return 0;
    case XENVER_changeset: strcpy(arg, "fake"); return 0;
    case XENVER_platform_parameters: memset(arg, 0, sizeof(xen_platform_parameters_t)); return 0;
    case XENVER_pagesize: return 4096;
    case XENVER_commandline: memset(arg, 0, sizeof(xen_commandline_t)); return 0;
    default: errno = ENOSYS; return -1;
    }
}
int xc_physinfo(xc_interface *x, xc_physinfo_t *p)
{
    memset(p, 0, sizeof(*p));
    p->threads_per_core = 1; p->cores_per_socket = 2; p->nr_cpus = 2;
    p->max_cpu_id = 63; p->nr_nodes = 1; p->cpu_khz = 2000000;
    p->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv |
        XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_shadow |
        XEN_SYSCTL_PHYSCAP_gnttab_v1 | XEN_SYSCTL_PHYSCAP_gnttab_v2;
    p->total_pages = p->free_pages = 4ull << 18;  /* 4 GiB */
    return 0;
}
long xc_sharing_freed_pages(xc_interface *x) { return 0; }
long xc_sharing_used_frames(xc_interface *x) { return 0; }
