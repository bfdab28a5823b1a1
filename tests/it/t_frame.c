/* t_frame.c -- framing seen from a client: lines, delimiters, length
 * prefixes, a mode change between frames, the max bound, and the
 * unfinished frame handed to on_done. Fixtures: framing.lua, and
 * buffer.lua for the buffer framing (with table replies), buffer_len.lua
 * for its input:line(pattern) and input:take(n, delimiter),
 * buffer_counted.lua for input:counted. */
#include <errno.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

static void send_bytes(int fd, const char *data, size_t len)
{
    ASSERT_EQ(it_cli_send_all(fd, data, len, IT_WAIT_MS), 0);
}

/* Receive exactly want (binary-safe, len bytes). */
static void expect_bytes(int fd, const char *want, size_t len)
{
    char got[1024];
    ASSERT_LE(len, sizeof got);
    size_t n = it_cli_recv_n(fd, got, len, IT_WAIT_MS);
    ASSERT_MEM_EQ(got, n, want, len);
}
#define EXPECT(fd, lit) expect_bytes((fd), (lit), sizeof(lit) - 1)
#define SEND(fd, lit) send_bytes((fd), (lit), sizeof(lit) - 1)

static void expect_then_eof(int fd, const char *want, size_t len)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS);
    if (rc != 0)
        TEST_FAIL("expected EOF, got %s after %zu bytes", strerror(-rc), n);
    ASSERT_MEM_EQ(in, n, want, len);
    free(in);
}

/* The server resets the connection: nothing more, then ECONNRESET. */
static void expect_reset(int fd)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS);
    if (rc != -ECONNRESET)
        TEST_FAIL("expected a reset, got %s after %zu bytes",
                  rc ? strerror(-rc) : "EOF", n);
    ASSERT_EQ(n, 0);
    free(in);
}

void frame_line(void)
{
    it_server *s = SERVER_START(FIXTURE("framing.lua"), "--", "mode=line",
                                "max=16");
    int fd = it_cli_connect_to(s, 0);
    SEND(fd, "hel");
    SEND(fd, "lo\r\nwor");
    EXPECT(fd, "[hello]\n");
    SEND(fd, "ld\n\n\r\na\0b\n");
    EXPECT(fd, "[world]\n[]\n[]\n[a\0b]\n");
    SEND(fd, "0123456789abcdef\n"); /* exactly max */
    EXPECT(fd, "[0123456789abcdef]\n");
    SEND(fd, "unfinished");
    it_cli_shut_wr(fd);
    expect_then_eof(fd, "rest=unfinished\n", 16);
    close(fd);

    fd = it_cli_connect_to(s, 0); /* nothing pending at the end: nil */
    SEND(fd, "x\n");
    it_cli_shut_wr(fd);
    expect_then_eof(fd, "[x]\nrest=nil\n", 13);
    close(fd);
    it_server_stop_clean(s);
}

void frame_line_too_big(void)
{
    it_server *s = SERVER_START(FIXTURE("framing.lua"), "--", "mode=line",
                                "max=16");
    int fd = it_cli_connect_to(s, 0);
    SEND(fd, "short\n");
    EXPECT(fd, "[short]\n");
    /* 17 bytes and no end in sight: over max, whatever comes next */
    SEND(fd, "0123456789abcdefg");
    expect_reset(fd);
    close(fd);
    /* the server goes on */
    fd = it_cli_connect_to(s, 0);
    SEND(fd, "ok\n");
    EXPECT(fd, "[ok]\n");
    close(fd);
    it_server_stop_clean(s);
    char *log = it_log_read(s);
    ASSERT_EQ(it_log_count_word(log, "warn", "conn 1",
                                "line frame longer than max 16 bytes"), 1);
    free(log);
}

void frame_delim(void)
{
    it_server *s = SERVER_START(FIXTURE("framing.lua"), "--", "mode=delim");
    int fd = it_cli_connect_to(s, 0);
    SEND(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r");
    SEND(fd, "\n\r\n\r\nnext\r\n");
    EXPECT(fd, "[GET / HTTP/1.1\r\nHost: x]\n[]\n");
    SEND(fd, "\r\n");
    EXPECT(fd, "[next]\n");
    it_cli_shut_wr(fd);
    expect_then_eof(fd, "rest=nil\n", 9);
    close(fd);
    it_server_stop_clean(s);
}

void frame_length(void)
{
    it_server *s = SERVER_START(FIXTURE("framing.lua"), "--", "mode=length",
                                "max=100");
    int fd = it_cli_connect_to(s, 0);
    SEND(fd, "\0\3abc\0");
    SEND(fd, "\0\0\2h");
    EXPECT(fd, "\0\3ABC\0\0");
    SEND(fd, "i");
    EXPECT(fd, "\0\2HI");
    /* 128 > max: known from the prefix alone */
    SEND(fd, "\0\200");
    expect_reset(fd);
    close(fd);
    it_server_stop_clean(s);
    char *log = it_log_read(s);
    ASSERT_EQ(it_log_count_word(log, "warn", "conn 1",
                                "length frame of 128 bytes is over max 100"),
              1);
    free(log);
}

void frame_switch(void)
{
    it_server *s = SERVER_START(FIXTURE("framing.lua"), "--", "mode=switch");
    int fd = it_cli_connect_to(s, 0);
    /* a header line, a fixed body holding newlines, a line again: all in
     * one send, so the mode changes between frames of one chunk */
    SEND(fd, "LEN 5\n12\n45hello\nLEN 3\nab");
    EXPECT(fd, "body[12\n45]\n[hello]\n");
    SEND(fd, "c");
    EXPECT(fd, "body[abc]\n");
    SEND(fd, "LEN 4\nxy");
    it_cli_shut_wr(fd);
    expect_then_eof(fd, "rest=xy\n", 8);
    close(fd);
    it_server_stop_clean(s);
}

void buffer_frames(void)
{
    it_server *s = SERVER_START(FIXTURE("buffer.lua"), "--", "max=16");
    int fd = it_cli_connect_to(s, 0);
    /* a line cut across two writes: the uncommitted start comes again */
    SEND(fd, "hel");
    SEND(fd, "lo\r\n");
    EXPECT(fd, "<hello>5\n");
    /* two whole lines and the start of a third in one write: one call
     * answers both lines; the rest waits for its end */
    SEND(fd, "ab\ncd\nef");
    EXPECT(fd, "<ab>2\n<cd>2\n");
    SEND(fd, "gh\n\n");
    EXPECT(fd, "<efgh>4\n<>0\n");
    SEND(fd, "0123456789abcdef"); /* exactly max held: not over */
    SEND(fd, "\n");
    EXPECT(fd, "<0123456789abcdef>16\n");
    /* the client's FIN with a line unfinished: on_done gets it as rest */
    SEND(fd, "unfinished");
    it_cli_shut_wr(fd);
    expect_then_eof(fd, "rest=unfinished\n", 16);
    close(fd);

    fd = it_cli_connect_to(s, 0); /* everything used at the end: nil */
    SEND(fd, "x\n");
    it_cli_shut_wr(fd);
    expect_then_eof(fd, "<x>1\nrest=nil\n", 14);
    close(fd);

    fd = it_cli_connect_to(s, 0); /* 17 unused bytes held: over max */
    SEND(fd, "0123456789abcdefg");
    expect_reset(fd);
    close(fd);
    it_server_stop_clean(s);
    char *log = it_log_read(s);
    ASSERT_EQ(it_log_count_word(log, "warn", "conn 3",
                                "17 unused bytes of a buffer frame are over "
                                "max 16: resetting the connection"), 1);
    free(log);
}

/* input:line(pattern) and input:take(n, "\r\n") on a length-prefixed
 * protocol (buffer_len.lua). Each chunk after the first ends inside a
 * request, and its replies are awaited before the next is sent, so the
 * server holds the cut request between reads. */
void buffer_patterns(void)
{
    it_server *s = SERVER_START(FIXTURE("buffer_len.lua"));
    int fd = it_cli_connect_to(s, 0);
    SEND(fd, "PUT a 5\r\nhe");
    SEND(fd, "llo\r\nGET a\r\nPU");
    EXPECT(fd, "+a 5\r\n$5\r\nhello\r\n");
    /* a value holding CR LF; its end cut between CR and LF */
    SEND(fd, "T b 4\r\na\r\nb\r");
    SEND(fd, "\nGET b\r\nGET a\r\nPUT c 1");
    EXPECT(fd, "+b 4\r\n$4\r\na\r\nb\r\n$5\r\nhello\r\n");
    /* the header line cut: a line not whole is not matched yet */
    SEND(fd, "0\r\n0123456789\r");
    SEND(fd, "\nGET c\r\nbogus\nGET zz\r\nPUT d 0\r\n");
    EXPECT(fd, "+c 10\r\n$10\r\n0123456789\r\n-ERR unknown 'bogus'\r\n"
               "$-1\r\n");
    SEND(fd, "\r\nGET d\r\n");
    EXPECT(fd, "+d 0\r\n$0\r\n\r\n");
    /* a value not followed by CRLF: refused, then the close */
    SEND(fd, "PUT e 2\r\nabX\r\nGET e\r\n");
    expect_then_eof(fd, "-ERR expected CRLF\r\n", 20);
    close(fd);

    fd = it_cli_connect_to(s, 0); /* the store outlives the connection */
    SEND(fd, "GET e\r\nGET b\r\n");
    EXPECT(fd, "$-1\r\n$4\r\na\r\nb\r\n");
    close(fd);
    it_server_stop_clean(s);
}

/* input:counted on memcached's set (buffer_counted.lua): the header, the
 * value and the CRLF after it cut, each chunk's finished requests
 * answered before the next is sent, as in buffer_patterns. */
void buffer_counted(void)
{
    it_server *s = SERVER_START(FIXTURE("buffer_counted.lua"));
    int fd = it_cli_connect_to(s, 0);
    /* the header cut inside the count */
    SEND(fd, "set a 5 0 1");
    SEND(fd, "1\r\nhello world\r\nget a\r\nset b 0 0 4\r\nab\r\n\r");
    EXPECT(fd, "STORED\r\nVALUE a 5 11\r\nhello world\r\nEND\r\n");
    /* the CRLF after a value holding CR LF cut between its CR and LF */
    SEND(fd, "\nget b\r\nset c 7 0 3\r\nx");
    EXPECT(fd, "STORED\r\nVALUE b 0 4\r\nab\r\n\r\nEND\r\n");
    /* the value cut; then the header cut before its LF */
    SEND(fd, "yz\r\nget c\r\nnope\r\nget zz\r\nset d 0 0 0\r");
    EXPECT(fd, "STORED\r\nVALUE c 7 3\r\nxyz\r\nEND\r\nERROR\r\n"
               "END\r\n");
    /* an empty value; one of 64 bytes, the most */
    SEND(fd, "\n\r\nget d\r\nset g 1 0 64\r\n"
             "0123456789abcdef0123456789abcdef"
             "0123456789abcdef0123456789abcdef\r\nget g\r\n");
    EXPECT(fd, "STORED\r\nVALUE d 0 0\r\n\r\nEND\r\nSTORED\r\n"
               "VALUE g 1 64\r\n0123456789abcdef0123456789abcdef"
               "0123456789abcdef0123456789abcdef\r\nEND\r\n");
    /* a value not followed by CRLF: refused, then the close */
    SEND(fd, "set e 0 0 2\r\nab");
    SEND(fd, "X\r\nget a\r\n");
    expect_then_eof(fd, "CLIENT_ERROR bad data chunk\r\n", 29);
    close(fd);

    /* a value over 64 bytes: refused at its header, before it comes */
    fd = it_cli_connect_to(s, 0);
    SEND(fd, "get e\r\nset f 0 0 65\r\n");
    expect_then_eof(fd, "END\r\nCLIENT_ERROR bad data chunk\r\n", 34);
    close(fd);

    fd = it_cli_connect_to(s, 0); /* the store outlives the connection */
    SEND(fd, "get c\r\nget f\r\n");
    EXPECT(fd, "VALUE c 7 3\r\nxyz\r\nEND\r\nEND\r\n");
    close(fd);
    it_server_stop_clean(s);
}
