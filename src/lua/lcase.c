/* lcase.c -- string.upper and string.lower, many bytes at a time.
 *
 * Lua's own versions call toupper()/tolower() once per byte through the C
 * locale; a script that transforms every byte it echoes spends most of its
 * time there. These give the same result for the C locale (only A-Z and
 * a-z change; every other byte, NULs and bytes >= 0x80 included, is kept)
 * sixteen bytes at a time with SSE2 where the CPU has it (every x86-64
 * does), eight at a time with word arithmetic elsewhere. The result is
 * built on the C stack, or for long strings in a scratch buffer that the
 * state keeps (as an upvalue), so a call makes one Lua string and no other
 * allocation. */
#include "lcase.h"

#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

/* SSE2 is part of every x86-64 CPU. */
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define HAVE_SSE2 1
#endif

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* For each byte of x below 0x80 whose value is in [lo, hi], flip bit 0x20
 * (the case bit of an ASCII letter). */
static uint64_t flip_range(uint64_t x, unsigned char lo, unsigned char hi)
{
    uint64_t low7 = x & ~HIGHS;                 /* each byte < 0x80 */
    uint64_t ge_lo = low7 + ONES * (0x80 - lo); /* high bit: byte >= lo */
    uint64_t gt_hi = low7 + ONES * (0x7f - hi); /* high bit: byte > hi */
    uint64_t in = ge_lo & ~gt_hi & ~x & HIGHS;  /* ... and was < 0x80 */
    return x ^ (in >> 2);                       /* 0x80 >> 2 == 0x20 */
}

static void convert(char *out, const char *in, size_t len, unsigned char lo,
                    unsigned char hi)
{
    size_t i = 0;
#ifdef HAVE_SSE2
    /* Sixteen at a time. As signed bytes, those >= 0x80 are negative, so
     * below lo, and kept. */
    const __m128i below = _mm_set1_epi8((char)(lo - 1));
    const __m128i above = _mm_set1_epi8((char)(hi + 1));
    const __m128i bit = _mm_set1_epi8(0x20);
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
        __m128i hit = _mm_and_si128(_mm_cmpgt_epi8(v, below),
                                    _mm_cmplt_epi8(v, above));
        _mm_storeu_si128((__m128i *)(void *)(out + i),
                         _mm_xor_si128(v, _mm_and_si128(hit, bit)));
    }
#endif
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, in + i, 8);
        word = flip_range(word, lo, hi);
        memcpy(out + i, &word, 8);
    }
    for (; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        out[i] = (char)(ch >= lo && ch <= hi ? ch ^ 0x20 : ch);
    }
}

/* The scratch buffer (upvalue 1, a full userdata) with room for len. */
static char *scratch(lua_State *L, size_t len)
{
    void *box = lua_touserdata(L, lua_upvalueindex(1));
    if (box != NULL && lua_rawlen(L, lua_upvalueindex(1)) >= len)
        return box;
    size_t size = len < 4096 ? 4096 : len;
    box = lua_newuserdatauv(L, size, 0);     /* ... box */
    lua_replace(L, lua_upvalueindex(1));     /* ... */
    return box;
}

/* Up to this many bytes the result is built on the C stack: a message's
 * worth, without the two API calls that find the scratch buffer. */
#define ON_STACK 512

static int convert_call(lua_State *L, unsigned char lo, unsigned char hi)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char small[ON_STACK];
    char *out = len <= sizeof small ? small : scratch(L, len);
    convert(out, s, len, lo, hi);
    lua_pushlstring(L, out, len);
    return 1;
}

static int l_upper(lua_State *L)
{
    return convert_call(L, 'a', 'z');
}

static int l_lower(lua_State *L)
{
    return convert_call(L, 'A', 'Z');
}

void lcase_install(lua_State *L, int string_table_index)
{
    int t = lua_absindex(L, string_table_index);
    lua_pushnil(L);                          /* no scratch yet */
    lua_pushcclosure(L, l_upper, 1);
    lua_setfield(L, t, "upper");
    lua_pushnil(L);
    lua_pushcclosure(L, l_lower, 1);
    lua_setfield(L, t, "lower");
}
