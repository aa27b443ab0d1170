#include <hiredis/hiredis.h>

// The context's error text is a char array, which Swift sees as a 128-tuple.
static inline const char *visionc_redis_error(const redisContext *context) { return context->errstr; }
