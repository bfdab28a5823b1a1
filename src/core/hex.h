/* hex.h -- hexadecimal digits, as %XX (form bodies, form.c) and \xHH
 * (transcripts, simulate_text.c) write bytes. */
#ifndef RICOCHET_HEX_H
#define RICOCHET_HEX_H

/* The value of the hex digit ch (0-9, a-f, A-F), or -1 for any other. */
int hex_digit(int ch);

#endif
