# host: the build machine's own cc, for development and the test suite.
CC ?= cc
