/* A probe: an os header, seen from core. */
#include "net.h"
