/* mbprobe: tiny Multiboot 1 + Multiboot2 "kernel" for the xenfab GRUB oracle.
   Put where a GRUB entry expects xen.gz: prints the command line and the modules
   GRUB passed to it on COM1, then exits QEMU through isa-debug-exit (port 0xf4).
   Built into build/mbprobe.elf by scripts/install-validators (flags there and in
   grub_boot.py); grub_boot.py gzips it, as xen.gz is. */
typedef unsigned int u32;
typedef unsigned char u8;
#define MB1_FLAGS 0x00000000u
__attribute__((section(".mbhdr"), used, aligned(8))) static const u32 mbhdr[] = {
    /* multiboot2 header (must be within first 32 KiB, 8-byte aligned) */
    0xe85250d6u, 0, 24, (u32)-(0xe85250d6u + 0 + 24), 0, 8,
    /* multiboot1 header (within first 8 KiB, 4-byte aligned) */
    0x1BADB002u, MB1_FLAGS, (u32)-(0x1BADB002u + MB1_FLAGS), 0 };
static inline void outb(unsigned short p, u8 v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline u8 inb(unsigned short p) { u8 v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static void putc_(char c) { while (!(inb(0x3fd) & 0x20)) ; outb(0x3f8, c); }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void puthead(u32 start, u32 end)   /* first bytes of a module, printable only */
{ puts_(" head="); for (u32 a = start; a < end && a < start + 48; a++) { u8 c = *(u8 *)a;
  if (c == '\n') break; putc_(c >= 32 && c < 127 ? c : '.'); } }
static void putu(u32 v) { char b[11]; int i = 10; b[i] = 0; do b[--i] = '0' + v % 10; while (v /= 10); puts_(b + i); }
void cmain(u32 magic, u32 *mbi)
{
    outb(0x3fb, 0x80); outb(0x3f8, 1); outb(0x3f9, 0); outb(0x3fb, 3); /* 115200 8n1 */
    puts_("\nXENFAB-MB-BEGIN\n");
    if (magic == 0x36d76289u) {            /* multiboot2 */
        puts_("XENFAB-MB-PROTO: 2\n");
        u8 *p = (u8 *)mbi + 8, *end = (u8 *)mbi + mbi[0];
        while (p < end) {
            u32 type = ((u32 *)p)[0], size = ((u32 *)p)[1];
            if (type == 0) break;
            if (type == 1) { puts_("XENFAB-MB-CMDLINE: "); puts_((char *)p + 8); puts_("\n"); }
            if (type == 2) { puts_("XENFAB-MB-LOADER: "); puts_((char *)p + 8); puts_("\n"); }
            if (type == 3) { u32 *m = (u32 *)p; puts_("XENFAB-MB-MODULE: size="); putu(m[3] - m[2]);
                             puthead(m[2], m[3]); puts_(" cmdline="); puts_((char *)p + 16); puts_("\n"); }
            p += (size + 7) & ~7u;
        }
    } else if (magic == 0x2BADB002u) {     /* multiboot1 */
        puts_("XENFAB-MB-PROTO: 1\n");
        if (mbi[0] & 4) { puts_("XENFAB-MB-CMDLINE: "); puts_((char *)mbi[4]); puts_("\n"); }
        if (mbi[0] & 512) { puts_("XENFAB-MB-LOADER: "); puts_((char *)mbi[16]); puts_("\n"); }
        if (mbi[0] & 8) for (u32 i = 0; i < mbi[5]; i++) {
            u32 *m = (u32 *)mbi[6] + 4 * i; puts_("XENFAB-MB-MODULE: size="); putu(m[1] - m[0]);
            puthead(m[0], m[1]); puts_(" cmdline="); puts_(m[2] ? (char *)m[2] : ""); puts_("\n"); }
    } else {
        puts_("XENFAB-MB-PROTO: unknown magic\n");
    }
    puts_("XENFAB-MB-END\n");
    outb(0xf4, 0);                         /* isa-debug-exit: qemu exits with status 1 */
    for (;;) __asm__ volatile("cli; hlt");
}
__attribute__((used, aligned(16))) static u8 stack[16384];
__asm__(".section .text\n.globl _start\n_start:\n"
        "  mov $stack+16384, %esp\n  push %ebx\n  push %eax\n  call cmain\n1: hlt\n  jmp 1b\n");
