#include <plplot.h>
