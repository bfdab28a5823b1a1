/* proc.h -- facts about this process. */
#ifndef RICOCHET_PROC_H
#define RICOCHET_PROC_H

#include <stdint.h>

/* The process id (seeds the default random source). */
uint64_t proc_id(void);

#endif
