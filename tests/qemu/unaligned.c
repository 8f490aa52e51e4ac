/* tests/qemu/raspi3b.sh runs this in the guest: reads the system timer through /dev/mem (a Device
 * mapping on arm64) with an aligned and an unaligned 32-bit load, and a 16-byte memcpy as glibc does;
 * prints which of them fault. Evidence for reading DMA and register memory only with aligned words. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf env;
static void on_bus(int sig) { siglongjmp(env, sig); }

static void probe(const char *what, volatile uint8_t *p, int wide) {
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
        if (wide) {
            uint8_t buf[16];
            memcpy(buf, (const void *)p, 16);
            printf("unaligned-device %s: no fault\n", what);
        } else {
            uint32_t v = *(volatile uint32_t *)p;
            printf("unaligned-device %s: no fault (%#x)\n", what, v);
        }
    } else {
        printf("unaligned-device %s: %s\n", what, sig == SIGBUS ? "SIGBUS" : "SIGSEGV");
    }
}

int main(void) {
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    if (fd < 0) { perror("unaligned-device: /dev/mem"); return 2; }
    volatile uint8_t *st = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0x3F003000);
    if (st == MAP_FAILED) { perror("unaligned-device: mmap"); return 2; }
    signal(SIGBUS, on_bus);
    signal(SIGSEGV, on_bus);
    probe("aligned-32", st + 4, 0);
    probe("unaligned-32", st + 5, 0);
    probe("memcpy-16", st + 4, 1);
    return 0;
}
