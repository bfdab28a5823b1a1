/* lpattern.c -- Lua 5.4 patterns (reference manual 6.4.1) over a matcher
 * that counts its steps; see lpattern.h.
 *
 * The matcher interprets the pattern text as it goes rather than compiling
 * it first, because the manual's rules are lazy: a malformed item is an
 * error only when a match attempt reaches it (string.find("abc", "x[")
 * quietly finds nothing), and a compiler would complain too early.
 *
 * Nesting follows the reference library's: a new level for each capture
 * boundary, for a '?' whose item matched, and for each continuation tried
 * by '*', '+' and '-'; everything else loops in place. The 200-level limit
 * behind "pattern too complex" therefore trips on exactly the same
 * patterns and subjects.
 *
 * Subjects and patterns are (pointer, length): NUL is an ordinary byte,
 * and the end of either is never found by reading a terminator. */
#include "lpattern.h"

#include <lauxlib.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM != 504
#error "lpattern implements the patterns of Lua 5.4"
#endif

#define ESC '%'
#define MAX_CAPTURES 32    /* the reference library's LUA_MAXCAPTURES */
#define MAX_DEPTH 200      /* nested levels before "pattern too complex" */
#define CHARGE_EVERY 1024  /* steps between calls of the charge callback */
#define SCAN_BYTES 32      /* bytes scanned or compared per extra step */

#define CAP_OPEN (-1)      /* started by '(' and not yet closed */
#define CAP_POSITION (-2)  /* "()": a position, not a substring */

#define NO_MATCH_YET SIZE_MAX

/* The callback and its argument: one full userdata, the first upvalue of
 * every installed closure (a function pointer does not fit in a light
 * userdata portably). */
typedef struct budget {
    lpattern_charge_fn charge;
    void *ud;
} budget;

typedef struct capture {
    const char *start;
    ptrdiff_t len;  /* a length, CAP_OPEN or CAP_POSITION */
} capture;

/* The state of one search over one subject. */
typedef struct matcher {
    lua_State *L;
    const char *subject, *subject_end;
    const char *pattern_end;
    int depth_left;  /* levels left before "pattern too complex" */
    int level;       /* captures started, closed or not */
    size_t pending;  /* steps not yet charged */
    const budget *budget;
    capture captures[MAX_CAPTURES];
} matcher;

static const char *match(matcher *m, const char *s, const char *p);

/* --- the budget --------------------------------------------------------- */

/* Hand the pending steps to the callback, which may raise. */
static void charge_pending(matcher *m)
{
    size_t steps = m->pending;
    m->pending = 0;
    if (m->budget->charge != NULL && steps > 0)
        m->budget->charge(m->L, steps > ULONG_MAX ? ULONG_MAX
                                                  : (unsigned long)steps,
                          m->budget->ud);
}

static inline void count_steps(matcher *m, size_t steps)
{
    m->pending += steps;
    if (m->pending >= CHARGE_EVERY)
        charge_pending(m);
}

/* --- single characters ------------------------------------------------- */

/* Whether c belongs to the class %letter, in the C locale (the one the
 * reference library's <ctype.h> calls see unless the host calls
 * setlocale). A letter that names no class stands for itself. */
static int class_match(unsigned char c, unsigned char letter)
{
    int lower = c >= 'a' && c <= 'z';
    int upper = c >= 'A' && c <= 'Z';
    int digit = c >= '0' && c <= '9';
    int in;
    switch (letter | 0x20) {
    case 'a': in = lower || upper; break;
    case 'c': in = c < 32 || c == 127; break;
    case 'd': in = digit; break;
    case 'g': in = c > 32 && c < 127; break;
    case 'l': in = lower; break;
    case 'p': in = c > 32 && c < 127 && !lower && !upper && !digit; break;
    case 's': in = c == ' ' || (c >= '\t' && c <= '\r'); break;
    case 'u': in = upper; break;
    case 'w': in = lower || upper || digit; break;
    case 'x': in = digit || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); break;
    case 'z': in = c == '\0'; break;  /* undocumented, still in 5.4 */
    default: return c == letter;
    }
    /* Only ASCII letters reach here: '|' 0x20 maps nothing else onto a
     * class letter. An upper-case letter is the complement. */
    return (letter & 0x20) ? in : !in;
}

/* Whether c is in the set whose '[' is at open and whose closing ']' is
 * at close (item_end has checked that there is one). */
static int set_has(unsigned char c, const char *open, const char *close)
{
    const char *p = open + 1;
    int in = 1;
    if (*p == '^') {
        in = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == ESC) {
            p++;  /* never close: item_end skipped the escaped byte */
            if (class_match(c, (unsigned char)*p))
                return in;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return in;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return in;
        }
    }
    return !in;
}

/* The end of the single-character item at p (a byte, '.', %x or a set):
 * where its quantifier, if any, sits. Raises on a malformed item. */
static const char *item_end(matcher *m, const char *p)
{
    const char *end = m->pattern_end;
    switch (*p++) {
    case ESC:
        if (p == end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (p < end && *p == '^')
            p++;
        /* The first byte is a member even when it is ']'. */
        do {
            if (p == end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            if (*p++ == ESC && p < end)
                p++;
        } while (p == end || *p != ']');
        return p + 1;
    default:
        return p;
    }
}

/* Whether the single-character item p..ep accepts c. */
static inline int item_has(const char *p, const char *ep, unsigned char c)
{
    switch (*p) {
    case '.': return 1;
    case ESC: return class_match(c, (unsigned char)p[1]);
    case '[': return set_has(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* How many bytes from s on the item p..ep accepts in a row. */
static size_t run_length(const matcher *m, const char *s, const char *p,
                         const char *ep)
{
    const char *end = m->subject_end, *q = s;
    switch (*p) {
    case '.':
        return (size_t)(end - s);
    case ESC: {
        unsigned char letter = (unsigned char)p[1];
        while (q < end && class_match((unsigned char)*q, letter))
            q++;
        break;
    }
    case '[':
        while (q < end && set_has((unsigned char)*q, p, ep - 1))
            q++;
        break;
    default:
        while (q < end && *q == *p)
            q++;
        break;
    }
    return (size_t)(q - s);
}

/* --- the matcher ------------------------------------------------------- */

/* item* and item+ : the longest run first, then shorter ones. */
static const char *match_greedy(matcher *m, const char *s, const char *p,
                                const char *ep)
{
    size_t run = run_length(m, s, p, ep);
    count_steps(m, 1 + run);  /* one per byte tried */
    if (ep + 1 == m->pattern_end && m->depth_left > 0)
        return s + run;  /* the pattern ends here: the longest run wins
                          * (as the level match() would open does) */
    for (;;) {
        const char *res = match(m, s + run, ep + 1);
        if (res != NULL || run == 0)
            return res;
        run--;
    }
}

/* item- : the shortest run first, one more item at a time. */
static const char *match_lazy(matcher *m, const char *s, const char *p,
                              const char *ep)
{
    for (;;) {
        const char *res = match(m, s, ep + 1);
        if (res != NULL)
            return res;
        if (s == m->subject_end || !item_has(p, ep, (unsigned char)*s))
            return NULL;
        s++;
        count_steps(m, 1);
    }
}

/* Whether the pattern from the '(' at p on is "(.*)" or "(.*)$", and
 * the levels that matching it the general way opens are free. */
static int rest_is_any_tail(const matcher *m, const char *p)
{
    size_t left = (size_t)(m->pattern_end - p);
    return (left == 4 || (left == 5 && p[4] == '$')) &&
           memcmp(p, "(.*)", 4) == 0 && m->depth_left >= 3;
}

/* '(' at p: a capture (or a position capture) starting at s. */
static const char *open_capture(matcher *m, const char *s, const char *p)
{
    int level = m->level;
    const char *res;
    if (level >= MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->captures[level].start = s;
    if (rest_is_any_tail(m, p)) {
        /* "(.*)" ending the pattern (a line's "^key: (.*)"): the rest of
         * the subject, without the three levels the general way opens
         * to find the same; it needs them free, so the same patterns
         * are "too complex" */
        size_t run = (size_t)(m->subject_end - s);
        m->captures[level].len = (ptrdiff_t)run;
        m->level = level + 1;
        count_steps(m, 4 + run);
        return m->subject_end;
    }
    if (p + 1 < m->pattern_end && p[1] == ')') {
        m->captures[level].len = CAP_POSITION;
        p += 2;
    } else {
        m->captures[level].len = CAP_OPEN;
        p += 1;
    }
    m->level = level + 1;
    res = match(m, s, p);
    if (res == NULL)
        m->level = level;
    return res;
}

/* ')' before p: close the innermost open capture at s. */
static const char *close_capture(matcher *m, const char *s, const char *p)
{
    int level = m->level - 1;
    const char *res;
    while (level >= 0 && m->captures[level].len != CAP_OPEN)
        level--;
    if (level < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->captures[level].len = s - m->captures[level].start;
    if (p == m->pattern_end && m->depth_left > 0)
        return s;  /* the pattern ends here: matched (as the level
                    * match() would open does) */
    res = match(m, s, p);
    if (res == NULL)
        m->captures[level].len = CAP_OPEN;
    return res;
}

/* %bxy with x, y at p: a balanced run starting at s. */
static const char *match_balance(matcher *m, const char *s, const char *p)
{
    const char *q;
    int depth = 1;
    if (m->pattern_end - p < 2)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s == m->subject_end || *s != p[0])
        return NULL;
    for (q = s + 1; q < m->subject_end; q++) {
        if (*q == p[1]) {
            if (--depth == 0)
                break;
        } else if (*q == p[0]) {
            depth++;
        }
    }
    count_steps(m, (size_t)(q - s));  /* one per byte scanned */
    return q < m->subject_end ? q + 1 : NULL;
}

/* %1-%9 (digit given): the text of a closed capture again, at s. */
static const char *match_backref(matcher *m, const char *s, int digit)
{
    int index = digit - '1';
    ptrdiff_t len;
    if (index < 0 || index >= m->level ||
        m->captures[index].len == CAP_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", index + 1);
    len = m->captures[index].len;
    if (len == CAP_POSITION || m->subject_end - s < len)
        return NULL;
    count_steps(m, (size_t)len / SCAN_BYTES);
    if (memcmp(m->captures[index].start, s, (size_t)len) != 0)
        return NULL;
    return s + len;
}

/* %f[set] with the '[' at set: s is where the bytes around it go from
 * outside the set to inside (the subject's ends count as '\0'). Returns
 * the pattern after the set, or NULL when s is not such a frontier. */
static const char *match_frontier(matcher *m, const char *s,
                                  const char *set)
{
    const char *set_end;
    unsigned char before, at;
    if (set == m->pattern_end || *set != '[')
        luaL_error(m->L, "missing '[' after '%%f' in pattern");
    set_end = item_end(m, set);
    before = s == m->subject ? '\0' : (unsigned char)s[-1];
    at = s == m->subject_end ? '\0' : (unsigned char)*s;
    if (set_has(before, set, set_end - 1) || !set_has(at, set, set_end - 1))
        return NULL;
    return set_end;
}

/* Match the pattern from p against the subject from s: the end of the
 * match, or NULL. Captures are left as the successful path set them. */
static const char *match(matcher *m, const char *s, const char *p)
{
    const char *pattern_end = m->pattern_end;
    if (m->depth_left-- == 0)
        luaL_error(m->L, "pattern too complex");
    count_steps(m, 1);
    while (p < pattern_end) {
        const char *ep;
        int hit;
        switch (*p) {
        case '(':
            s = open_capture(m, s, p);
            goto done;
        case ')':
            s = close_capture(m, s, p + 1);
            goto done;
        case '$':
            if (p + 1 != pattern_end)
                break;  /* a '$' elsewhere is a plain byte */
            if (s != m->subject_end)
                s = NULL;
            goto done;
        case ESC:
            if (p + 1 == pattern_end)
                break;  /* item_end reports it */
            switch (p[1]) {
            case 'b':
                s = match_balance(m, s, p + 2);
                if (s == NULL)
                    goto done;
                p += 4;
                count_steps(m, 1);
                continue;
            case 'f':
                p = match_frontier(m, s, p + 2);
                if (p == NULL) {
                    s = NULL;
                    goto done;
                }
                count_steps(m, 1);
                continue;
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
                s = match_backref(m, s, (unsigned char)p[1]);
                if (s == NULL)
                    goto done;
                p += 2;
                count_steps(m, 1);
                continue;
            default:
                break;
            }
            break;
        default:
            break;
        }

        /* A single-character item, perhaps with a quantifier. */
        ep = *p == ESC || *p == '[' ? item_end(m, p) : p + 1;
        hit = s < m->subject_end && item_has(p, ep, (unsigned char)*s);
        switch (ep < pattern_end ? *ep : '\0') {
        case '?':
            if (hit) {
                const char *res = match(m, s + 1, ep + 1);
                if (res != NULL) {
                    s = res;
                    goto done;
                }
            }
            p = ep + 1;
            break;
        case '*':
            if (hit) {
                s = match_greedy(m, s, p, ep);
                goto done;
            }
            p = ep + 1;
            break;
        case '+':
            s = hit ? match_greedy(m, s + 1, p, ep) : NULL;
            goto done;
        case '-':
            if (hit) {
                s = match_lazy(m, s, p, ep);
                goto done;
            }
            p = ep + 1;
            break;
        default:
            if (!hit) {
                s = NULL;
                goto done;
            }
            s++;
            p = ep;
            break;
        }
        count_steps(m, 1);
    }
done:
    m->depth_left++;
    return s;
}

/* --- searching --------------------------------------------------------- */

static void matcher_init(matcher *m, lua_State *L, const budget *b,
                         const char *s, size_t ls, const char *p, size_t lp)
{
    m->L = L;
    m->subject = s;
    m->subject_end = s + ls;
    m->pattern_end = p + lp;
    m->pending = 0;
    m->budget = b;
    m->level = 0;
    m->depth_left = MAX_DEPTH;
}

/* Match the pattern p (without an anchor) at s, afresh. */
static const char *match_at(matcher *m, const char *s, const char *p)
{
    m->level = 0;
    m->depth_left = MAX_DEPTH;
    return match(m, s, p);
}

/* When the pattern p begins with a plain byte that must match once, that
 * byte (an attempt elsewhere fails at once and without side effects, so a
 * search may skip to the next copy of it); otherwise -1. */
static int leading_byte(const char *p, size_t lp)
{
    if (lp == 0)
        return -1;
    switch (p[0]) {
    case '(': case ')': case ESC: case '[': case '.':
        return -1;
    case '$':
        if (lp == 1)
            return -1;
        break;
    default:
        break;
    }
    if (lp > 1 && (p[1] == '*' || p[1] == '?' || p[1] == '-'))
        return -1;
    return (unsigned char)p[0];
}

/* The first place at or after s where a match could start: the next copy
 * of lead (the subject's end when there is none), or s when lead is -1. */
static const char *next_candidate(const matcher *m, const char *s, int lead)
{
    const char *hit;
    if (lead < 0 || s == m->subject_end)
        return s;
    hit = memchr(s, lead, (size_t)(m->subject_end - s));
    return hit != NULL ? hit : m->subject_end;
}

/* Capture i of the match s..e, as the reference library numbers them (with
 * no captures, capture 0 is the whole match). A position is pushed and
 * CAP_POSITION returned; a substring is returned as *start and length. */
static ptrdiff_t get_capture(matcher *m, int i, const char *s, const char *e,
                             const char **start)
{
    const capture *cap;
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *start = s;
        return e - s;
    }
    cap = &m->captures[i];
    if (cap->len == CAP_OPEN)
        luaL_error(m->L, "unfinished capture");
    *start = cap->start;
    if (cap->len == CAP_POSITION)
        lua_pushinteger(m->L, (cap->start - m->subject) + 1);
    return cap->len;
}

static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    const char *start;
    ptrdiff_t len = get_capture(m, i, s, e, &start);
    if (len != CAP_POSITION)
        lua_pushlstring(m->L, start, (size_t)len);  /* capture */
}

/* Push every capture, or the whole match s..e when there are none and s
 * is not NULL. Returns how many values were pushed. */
static int push_captures(matcher *m, const char *s, const char *e)
{
    int n = (m->level == 0 && s != NULL) ? 1 : m->level;
    if (n > 1)  /* one fits: a C function starts with LUA_MINSTACK free */
        luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);  /* ..., captures so far */
    return n;
}

/* Push every capture but the last, which is stored in *last instead:
 * with no captures, the whole match s..e is the last and only one.
 * Leaves room for two more values. Returns how many were pushed. */
static int push_captures_but_last(matcher *m, const char *s, const char *e,
                                  lpattern_span *last)
{
    int n = m->level == 0 ? 1 : m->level;
    if (n + 1 > LUA_MINSTACK)  /* a C function starts with that many free */
        luaL_checkstack(m->L, n + 1, "too many captures");
    for (int i = 0; i < n - 1; i++)
        push_capture(m, i, s, e);  /* ..., captures so far */
    last->len = get_capture(m, n - 1, s, e, &last->start);
    if (last->len == CAP_POSITION) {
        lua_pop(m->L, 1);          /* the position get_capture pushed */
        last->len = -1;
    }
    return n - 1;
}

/* Lua's posrelatI: a 1-based start (negative from the end, clamped) as a
 * 0-based offset, which may lie past the end. */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len - (size_t)-pos;
}

/* Whether the pattern uses any magic character; find treats one that does
 * not as plain text. */
static int has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++) {
        switch (p[i]) {
        case '^': case '$': case '*': case '+': case '?': case '.':
        case '(': case '[': case ESC: case '-':
            return 1;
        default:
            break;
        }
    }
    return 0;
}

/* The first copy of needle in the subject from s on, or NULL. */
static const char *find_plain(matcher *m, const char *s, const char *needle,
                              size_t nlen)
{
    const char *last;
    if (nlen == 0)
        return s;
    if ((size_t)(m->subject_end - s) < nlen)
        return NULL;
    last = m->subject_end - nlen;
    while (s <= last) {
        s = memchr(s, (unsigned char)needle[0], (size_t)(last - s) + 1);
        if (s == NULL)
            return NULL;
        count_steps(m, 1 + nlen / SCAN_BYTES);
        if (memcmp(s + 1, needle + 1, nlen - 1) == 0)
            return s;
        s++;
    }
    return NULL;
}

/* What a failed search returns (see search). */
static int fail(lua_State *L, int quiet)
{
    if (quiet)
        return -1;
    luaL_pushfail(L);  /* fail */
    return 1;
}

/* Search s[0..ls) from init on for p, as string.find (find) or
 * string.match does, and push the results. Returns the number of values
 * pushed; a failed search pushes fail and returns 1, or, for quiet,
 * pushes nothing and returns -1. A match's last capture goes to *last
 * instead of the stack when last is not NULL (see lpattern_match). */
static int search(lua_State *L, const budget *b, const char *s, size_t ls,
                  const char *p, size_t lp, size_t init, int find,
                  int plain, int quiet, lpattern_span *last)
{
    matcher m;
    int anchored, lead;
    const char *start;

    if (init > ls) {
        return fail(L, quiet);
    }
    matcher_init(&m, L, b, s, ls, p, lp);
    if (find && (plain || !has_specials(p, lp))) {
        const char *at = find_plain(&m, s + init, p, lp);
        charge_pending(&m);
        if (at == NULL)
            return fail(L, quiet);
        lua_pushinteger(L, (at - s) + 1);            /* start */
        lua_pushinteger(L, (at - s) + (ptrdiff_t)lp);  /* start, end */
        return 2;
    }

    anchored = lp > 0 && p[0] == '^';
    if (anchored)
        p++;  /* the pattern's end stays where it was */
    lead = anchored ? -1 : leading_byte(p, lp);
    start = s + init;
    for (;;) {
        const char *e;
        start = next_candidate(&m, start, lead);
        e = match_at(&m, start, p);
        if (e != NULL) {
            int n;
            if (find) {
                lua_pushinteger(L, (start - s) + 1);  /* start */
                lua_pushinteger(L, e - s);            /* start, end */
                n = 2 + push_captures(&m, NULL, NULL);
            } else if (last != NULL) {
                n = push_captures_but_last(&m, start, e, last);
            } else {
                n = push_captures(&m, start, e);
            }
            charge_pending(&m);
            return n;  /* results */
        }
        if (anchored || start == m.subject_end)
            break;
        start++;
    }
    charge_pending(&m);
    return fail(L, quiet);
}

/* string.find and string.match. */
static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    const budget *b = lua_touserdata(L, lua_upvalueindex(1));
    return search(L, b, s, ls, p, lp, init, find, lua_toboolean(L, 4), 0,
                  NULL);
}

/* See lpattern.h. */
int lpattern_match(lua_State *L, const char *s, size_t ls, const char *p,
                   size_t lp, lpattern_charge_fn charge, void *ud,
                   lpattern_span *last)
{
    budget b;
    b.charge = charge;
    b.ud = ud;
    return search(L, &b, s, ls, p, lp, 0, 0, 0, 1, last);
}

static int l_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int l_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* Where a gmatch iteration stands, as offsets into the subject. */
typedef struct gmatch_state {
    size_t next;      /* where the next search starts */
    size_t last_end;  /* where the previous match ended, or NO_MATCH_YET */
} gmatch_state;

/* The iterator: upvalues subject, pattern, state, budget. */
static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    gmatch_state *gs = lua_touserdata(L, lua_upvalueindex(3));
    const budget *b = lua_touserdata(L, lua_upvalueindex(4));
    int lead = leading_byte(p, lp);
    matcher m;

    matcher_init(&m, L, b, s, ls, p, lp);
    /* '^' anchors nothing here: gmatch takes it as a plain byte. */
    for (size_t at = gs->next; at <= ls; at++) {
        const char *start = next_candidate(&m, s + at, lead);
        const char *e = match_at(&m, start, p);
        at = (size_t)(start - s);
        if (e != NULL && (size_t)(e - s) != gs->last_end) {
            int n;
            gs->next = gs->last_end = (size_t)(e - s);
            n = push_captures(&m, start, e);  /* captures */
            charge_pending(&m);
            return n;
        }
    }
    gs->next = ls + 1;  /* exhausted: later calls return at once */
    charge_pending(&m);
    return 0;
}

static int l_gmatch(lua_State *L)
{
    size_t ls, lp;
    size_t init;
    gmatch_state *gs;
    luaL_checklstring(L, 1, &ls);
    luaL_checklstring(L, 2, &lp);
    init = start_offset(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);                          /* subject, pattern */
    gs = lua_newuserdatauv(L, sizeof *gs, 0);  /* subject, pattern, state */
    gs->next = init > ls ? ls + 1 : init;
    gs->last_end = NO_MATCH_YET;
    lua_pushvalue(L, lua_upvalueindex(1));  /* ..., state, budget */
    lua_pushcclosure(L, gmatch_next, 4);    /* iterator */
    return 1;
}

/* Append the replacement string tpl for the match s..e: "%0" is the whole
 * match, "%1"-"%9" a capture, "%%" a '%'. */
static void add_template(matcher *m, luaL_Buffer *b, const char *s,
                         const char *e, const char *tpl, size_t tlen)
{
    const char *tpl_end = tpl + tlen;
    const char *esc;
    while ((esc = memchr(tpl, ESC, (size_t)(tpl_end - tpl))) != NULL) {
        char what = esc + 1 < tpl_end ? esc[1] : '\0';
        luaL_addlstring(b, tpl, (size_t)(esc - tpl));
        if (what == ESC) {
            luaL_addchar(b, ESC);
        } else if (what == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (what >= '1' && what <= '9') {
            const char *start;
            ptrdiff_t len = get_capture(m, what - '1', s, e, &start);
            if (len == CAP_POSITION)
                luaL_addvalue(b);  /* the pushed position */
            else
                luaL_addlstring(b, start, (size_t)len);
        } else {
            luaL_error(m->L, "invalid use of '%c' in replacement string",
                       ESC);
        }
        tpl = esc + 2;
    }
    luaL_addlstring(b, tpl, (size_t)(tpl_end - tpl));
}

/* Append the replacement for the match s..e, as replacement argument 3
 * (of type repl_type) gives it. Returns whether the text changed. */
static int add_replacement(matcher *m, luaL_Buffer *b, const char *s,
                           const char *e, int repl_type)
{
    lua_State *L = m->L;
    if (repl_type == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);        /* ..., function */
        n = push_captures(m, s, e);  /* ..., function, captures */
        lua_call(L, n, 1);           /* ..., value */
    } else if (repl_type == LUA_TTABLE) {
        push_capture(m, 0, s, e);  /* ..., key */
        lua_gettable(L, 3);        /* ..., value */
    } else {
        size_t tlen;
        const char *tpl = lua_tolstring(L, 3, &tlen);
        add_template(m, b, s, e, tpl, tlen);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));  /* keep the original */
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)",
                          luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int l_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int repl_type = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    const budget *bud = lua_touserdata(L, lua_upvalueindex(1));
    const char *src = s, *last_end = NULL;
    lua_Integer n = 0;
    int changed = 0, anchored, lead;
    matcher m;
    luaL_Buffer b;

    luaL_argexpected(L, repl_type == LUA_TNUMBER ||
                     repl_type == LUA_TSTRING ||
                     repl_type == LUA_TFUNCTION ||
                     repl_type == LUA_TTABLE, 3, "string/function/table");
    luaL_buffinit(L, &b);
    anchored = lp > 0 && p[0] == '^';
    if (anchored) {
        p++;
        lp--;
    }
    lead = anchored ? -1 : leading_byte(p, lp);
    matcher_init(&m, L, bud, s, ls, p, lp);
    while (n < max_n) {
        const char *e, *cand = next_candidate(&m, src, lead);
        if (cand != src) {
            luaL_addlstring(&b, src, (size_t)(cand - src));  /* no match */
            src = cand;
        }
        e = match_at(&m, src, p);
        if (e != NULL && e != last_end) {
            n++;
            changed |= add_replacement(&m, &b, src, e, repl_type);
            src = last_end = e;
        } else if (src < m.subject_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    charge_pending(&m);
    if (!changed) {
        lua_pushvalue(L, 1);  /* ..., subject */
    } else {
        luaL_addlstring(&b, src, (size_t)(m.subject_end - src));
        luaL_pushresult(&b);  /* ..., result */
    }
    lua_pushinteger(L, n);  /* ..., result, count */
    return 2;
}

/* See lpattern.h. */
void lpattern_install(lua_State *L, int string_table_index,
                      lpattern_charge_fn charge, void *ud)
{
    static const luaL_Reg functions[] = {
        { "find", l_find },
        { "match", l_match },
        { "gmatch", l_gmatch },
        { "gsub", l_gsub },
        { NULL, NULL }
    };
    budget *b;
    lua_pushvalue(L, string_table_index);  /* string */
    b = lua_newuserdatauv(L, sizeof *b, 0);  /* string, budget */
    b->charge = charge;
    b->ud = ud;
    luaL_setfuncs(L, functions, 1);  /* string */
    lua_pop(L, 1);
}
