/* lsummary.c -- the summary line of a finished connection. The fields
 * are gathered on the stack and written by log_event, which formats them
 * as text or JSON; nothing is done unless the line is wanted. */
#include "lsummary.h"

#include <stdio.h>
#include <string.h>

#include "lcall.h"
#include "lhook.h"
#include "log.h"

/* The fixed fields, the upstream's, two shapings and the tags. */
#define SUMMARY_FIELDS (16 + 2 * 10 + LCONN_TAGS_MAX)

typedef struct fields {
    log_field f[SUMMARY_FIELDS];
    size_t n;
    char keys[LCONN_TAGS_MAX][LCONN_TAG_KEY_MAX + 8]; /* "tag.KEY" */
} fields;

static void add_str(fields *fs, const char *key, const char *value)
{
    log_field *f = &fs->f[fs->n++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->type = LOG_FIELD_STR;
    f->str = value;
    f->len = strlen(value);
}

static void add_uint(fields *fs, const char *key, uint64_t value)
{
    log_field *f = &fs->f[fs->n++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->type = LOG_FIELD_UINT;
    f->u = value;
}

/* The shaping fields that were asked (names as the conn methods and
 * chaos.lua's arguments say them); up: the upstream's, "up." first. */
static void add_shaping(fields *fs, const conn_shaping *sh, int up)
{
    static const char *const names[2][10] = {
        {"delay", "jitter", "rate", "slice", "slice_variation", "slice_gap",
         "close_after_bytes", "close_after_ms", "reset_after", "stall"},
        {"up.delay", "up.jitter", "up.rate", "up.slice",
         "up.slice_variation", "up.slice_gap", "up.close_after_bytes",
         "up.close_after_ms", "up.reset_after", "up.stall"}
    };
    const uint64_t values[10] = {
        sh->delay_ms, sh->jitter_ms, sh->rate, sh->slice_size,
        sh->slice_variation, sh->slice_gap_ms, sh->close_after_bytes,
        sh->close_after_ms, sh->reset_after_ms, (uint64_t)sh->stalled
    };
    for (int i = 0; i < 10; i++) {
        if (values[i] == 0)
            continue;
        if (i == 9) {
            log_field *f = &fs->f[fs->n++];
            memset(f, 0, sizeof *f);
            f->key = names[up][i];
            f->type = LOG_FIELD_BOOL;
            f->u = 1;
        } else {
            add_uint(fs, names[up][i], values[i]);
        }
    }
}

static const char *failure_name(int status)
{
    switch (status) {
    case LCALL_MEMORY: return "memory";
    case LCALL_BUDGET: return "budget";
    default: return "error";
    }
}

static void add_tags(fields *fs, const ltags *tags)
{
    for (int k = 0; tags != NULL && k < tags->count; k++) {
        const ltag *t = &tags->tag[k];
        log_field *f = &fs->f[fs->n];
        memset(f, 0, sizeof *f);
        snprintf(fs->keys[k], sizeof fs->keys[k], "tag.%s", t->key);
        f->key = fs->keys[k];
        if (t->type == LUA_TSTRING) {
            f->type = LOG_FIELD_STR;
            f->str = tags->bytes + t->off;
            f->len = t->len;
        } else if (t->type == LUA_TBOOLEAN) {
            f->type = LOG_FIELD_BOOL;
            f->u = (uint64_t)t->i;
        } else if (t->is_integer) {
            f->type = LOG_FIELD_INT;
            f->i = (int64_t)t->i;
        } else {
            f->type = LOG_FIELD_NUM;
            f->d = (double)t->d;
        }
        fs->n++;
    }
}

void lsummary_log(const lconn *lc, const conn *c, enum conn_reason reason)
{
    static const char *const client_fin[] = {"neither", "client", "server"};
    static const char *const up_fin[] = {"neither", "upstream", "proxy"};
    if (log_get_level() < LOG_INFO || !log_conns_on())
        return;
    fields fs;
    fs.n = 0;
    add_str(&fs, "peer", conn_peer(c));
    add_uint(&fs, "ms", conn_age_ms(c));
    add_uint(&fs, "in", conn_bytes_in(c));
    add_uint(&fs, "out", conn_bytes_out(c));
    add_uint(&fs, "hooks", lc->hooks);
    add_str(&fs, "first_fin", client_fin[conn_first_fin(c)]);
    add_str(&fs, "reason", conn_reason_name(reason));
    if (lc->failed_hook >= 0) {
        add_str(&fs, "hook_failed", lhook_names[lc->failed_hook]);
        add_str(&fs, "hook_failure", failure_name(lc->failure));
    }
    /* The upstream: as it is now (it may still drain), or as it was when
     * it closed, and why. */
    const lup_info *kept = lc->up_info;
    conn_shaping up_shaping;
    int up_shaped = 0;
    if (lc->up != NULL) {
        add_str(&fs, "upstream", conn_peer(lc->up));
        add_uint(&fs, "up_in", conn_bytes_in(lc->up));
        add_uint(&fs, "up_out", conn_bytes_out(lc->up));
        add_str(&fs, "up_first_fin", up_fin[conn_first_fin(lc->up)]);
        up_shaped = conn_get_shaping(lc->up, &up_shaping);
    } else if (kept != NULL) {
        add_str(&fs, "upstream", kept->peer);
        add_uint(&fs, "up_in", kept->bytes_in);
        add_uint(&fs, "up_out", kept->bytes_out);
        add_str(&fs, "up_first_fin", up_fin[kept->first_fin]);
        add_str(&fs, "up_reason", conn_reason_name(kept->reason));
        up_shaped = kept->shaped;
        up_shaping = kept->shaping;
    }
    conn_shaping shaping;
    if (conn_get_shaping(c, &shaping))
        add_shaping(&fs, &shaping, 0);
    if (up_shaped)
        add_shaping(&fs, &up_shaping, 1);
    add_tags(&fs, lc->tags);
    log_event(LOG_INFO, conn_id(c), "conn_done", "done", fs.f, fs.n);
}
