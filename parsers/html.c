/* placeholder: being written */
#include "build-config.h"
