/* it_tmp.h -- a case's own temporary folder, in $TMPDIR (or /tmp), with
 * the folders and files it writes there; all removed when the runner
 * exits. */
#ifndef RICOCHET_IT_TMP_H
#define RICOCHET_IT_TMP_H

#include <stddef.h>

/* The case's folder (made on the first call), an absolute path. */
const char *it_tmp_root(void);
/* Make the folder rel under the root (its parent must exist). Returns
 * its absolute path, valid until exit. */
const char *it_tmp_mkdir(const char *rel);
/* Write text to the file rel under the root, replacing it, as an editor
 * saves (a new file renamed over). Returns its absolute path, valid
 * until exit. */
const char *it_tmp_write(const char *rel, const char *text);
/* The same with len bytes of data (NULs allowed). */
const char *it_tmp_write_bytes(const char *rel, const char *data,
                               size_t len);
/* The absolute path of rel under the root, for a file the case makes
 * itself (a socket it binds): removed at exit too. Valid until exit. */
const char *it_tmp_path(const char *rel);
/* Remove the file rel under the root (it must exist). */
void it_tmp_unlink(const char *rel);
/* Make rel under the root the runner's current folder, which the
 * servers it starts from then on inherit. */
void it_tmp_chdir(const char *rel);

#endif
