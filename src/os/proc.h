/* process.h -- facts about this process. */
#ifndef RICOCHET_PROCESS_H
#define RICOCHET_PROCESS_H

#include <stdint.h>

/* The process id (seeds the default random source). */
uint64_t process_id(void);

#endif
