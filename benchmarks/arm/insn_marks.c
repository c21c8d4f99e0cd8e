/*
 * emolite insn_marks: a QEMU TCG plugin that counts guest instructions and prints the running count
 * whenever the guest calls getppid(2), so a guest program can bracket a region of interest
 * (os.getppid() in Python) and read the instructions it cost. Counts are deterministic for a
 * single-threaded guest; the counter is a plain inline add (no atomics), so run the region on one thread.
 *
 * Build: gcc -shared -fPIC -O2 -I<qemu-src>/include/qemu $(pkg-config --cflags glib-2.0) \
 *            -o insn_marks.so insn_marks.c
 * Use:   qemu-aarch64 -plugin ./insn_marks.so -d plugin -D marks.log ...
 * Output lines: "emolite-mark <n> <insns>" per getppid call, "emolite-total <insns>" at exit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <glib.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define AARCH64_NR_GETPPID 173

static uint64_t insn_count;
static uint64_t marks;

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count, 1);
    }
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                       uint64_t a8)
{
    if (num == AARCH64_NR_GETPPID) {
        g_autofree gchar *line = g_strdup_printf("emolite-mark %" PRIu64 " %" PRIu64 "\n", marks++, insn_count);
        qemu_plugin_outs(line);
    }
}

static void plugin_exit(qemu_plugin_id_t id, void *p)
{
    g_autofree gchar *line = g_strdup_printf("emolite-total %" PRIu64 "\n", insn_count);
    qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
    return 0;
}
