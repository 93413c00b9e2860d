/* fa_gnuplot.h: draw charts by running gnuplot on a script, with deterministic bytes.
 *
 * The caller writes the plotting commands (data inline as gnuplot
 * datablocks, "$d << EOD ... EOD", so no temporary data files are
 * needed); this module prepends the terminal line (fixed size, fixed
 * font, no enhanced text), runs gnuplot with its default settings (no
 * user init file), and captures the image. The same script gives the
 * same bytes on the same machine (pngcairo, or libgd's png when cairo
 * is absent; or SVG). gnuplot is found as FA_GNUPLOT, else "gnuplot" on
 * PATH. Files are written atomically (temporary file in the same
 * directory, fsync, rename).
 *
 * Chart session: when FA_GNUPLOT_SESSION names a directory (absolute
 * path) holding "in", a FIFO a running gnuplot reads its commands from,
 * and "pid", that gnuplot's process id, charts are drawn by it (one chart
 * at a time, under a lock on DIR/lock) instead of by a gnuplot started
 * per chart; the bytes are the same. fa-run starts one per run.
 *
 * With FA_CHART_CACHE=1 (fa-run sets it), drawn charts are kept,
 * content-addressed like model calls, in
 * $FA_CACHE_DIR/charts/ab/cdef... (else the model cache's default
 * directory): the key is the BLAKE2b-256 of the whole script (terminal
 * line included) and of the gnuplot binary's path, size and modification
 * time, so a rerun or replay of the same days draws nothing and gets the
 * same bytes. FA_CACHE=off: no chart cache; ro and replay: read only.
 * Entries are written atomically; one that is not an image is drawn
 * again. */
#ifndef FA_GNUPLOT_H
#define FA_GNUPLOT_H

#include <stddef.h>

enum fa_gnuplot_format {
    FA_GNUPLOT_PNG = 0,
    FA_GNUPLOT_SVG = 1,
};

/* Returned (instead of -1) when gnuplot cannot be found or run: a
 * missing dependency, so programs exit 2 (FA_EXIT_USAGE). */
#define FA_GNUPLOT_MISSING (-2)

/* The gnuplot executable: FA_GNUPLOT when set and non-empty, else the
 * first executable "gnuplot" on PATH. Returns a static string, or NULL
 * with fa_err set to a message that says how to install it. */
const char *fa_gnuplot_path(void);

/* Runs gnuplot on script (commands only; no "set terminal"/"set
 * output": this function sets both) for an image of width x height
 * pixels in format fmt. On success stores the malloc'd image bytes in
 * *out and their length in *len (caller frees) and returns 0. Returns
 * FA_GNUPLOT_MISSING when gnuplot is absent, or -1 with fa_err set
 * holding gnuplot's own first error line when the script fails. */
int fa_gnuplot_render(const char *script, enum fa_gnuplot_format fmt, int width, int height,
                      unsigned char **out, size_t *len) __attribute__((warn_unused_result));

/* Like fa_gnuplot_render, then writes the image to path atomically.
 * Returns 0, FA_GNUPLOT_MISSING, or -1 with fa_err set. */
int fa_gnuplot_write(const char *script, enum fa_gnuplot_format fmt, int width, int height,
                     const char *path) __attribute__((warn_unused_result));

/* Charts drawn later. A program whose charts need not exist before some
 * point of its own (fa-days: a day's charts before its day file is saved,
 * when no model looks at them) starts a drawer: fa_gnuplot_write_later
 * then queues the chart for the drawer's thread, which draws the queued
 * charts one after the other (fa_gnuplot_write, the same bytes) while the
 * program goes on, on another core. fa_gnuplot_later_wait returns once the
 * queue is drawn: 0, or -1 with fa_err naming the first chart that failed
 * since the last wait. _stop waits, then ends the thread. Without a
 * drawer, fa_gnuplot_write_later is fa_gnuplot_write. Returns 0 when the
 * chart is queued (or drawn), FA_GNUPLOT_MISSING, or -1 with fa_err. */
int fa_gnuplot_later_start(void) __attribute__((warn_unused_result));
int fa_gnuplot_later_wait(void);
int fa_gnuplot_later_stop(void);
int fa_gnuplot_write_later(const char *script, enum fa_gnuplot_format fmt, int width, int height,
                           const char *path) __attribute__((warn_unused_result));
/* Writes down, in dir (made when needed), each chart queued and not drawn
 * yet, as a note a later process can draw it from (atomically, synced):
 * what a program calls before it saves a file that names those charts, so
 * that a crash loses none. The drawer removes a note once its chart is
 * drawn. Returns 0, or -1 with fa_err. */
int fa_gnuplot_later_persist(const char *dir) __attribute__((warn_unused_result));
/* Draws the charts noted in dir by a process that ended before it drew
 * them, removing each note (and dir, when that empties it). Returns how
 * many it drew, or -1 with fa_err naming the chart or note. */
int fa_gnuplot_later_recover(const char *dir) __attribute__((warn_unused_result));

/* Writes len bytes to path atomically: a temporary file in the same
 * directory, fsync, rename (mode 0644 less umask). Returns 0, or -1
 * with fa_err set naming path; no partial file is ever left. */
int fa_gnuplot_save(const char *path, const void *data, size_t len)
    __attribute__((warn_unused_result));

/* Format from a file name: ".svg" gives SVG, anything else PNG. */
enum fa_gnuplot_format fa_gnuplot_format_of(const char *path);

#endif
