# Warnings as errors (git/curl style). SLUICE_WERROR=OFF for local hacking.
option(SLUICE_WERROR "Treat warnings as errors" ON)
set(SLUICE_WARNINGS
  -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wpointer-arith -Wvla -Wwrite-strings -Wundef
  -Wimplicit-fallthrough -Wcast-align -fno-common -pedantic)
if(SLUICE_WERROR)
  list(APPEND SLUICE_WARNINGS -Werror)
endif()
add_compile_options(${SLUICE_WARNINGS})
