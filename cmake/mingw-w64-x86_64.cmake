# CMake toolchain file: cross-build ricochet.exe for 64-bit Windows with
# MinGW-w64 (Debian: gcc-mingw-w64-x86-64), for example
#
#   cmake/fetch-lua.sh build-win/lua
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#         -DLUA_DIR="$PWD/build-win/lua"
#
# (give LUA_DIR as an absolute path.)
#
# The result is linked statically (libgcc, the C runtime's helpers and
# winpthread included), so ricochet.exe imports only Windows system DLLs
# (KERNEL32, WS2_32, msvcrt, ...) and runs from a bare folder.
#
# When wine is installed, it becomes the emulator that runs the unit tests
# through ctest; pass -DCMAKE_CROSSCOMPILING_EMULATOR=... to choose another.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(RICOCHET_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${RICOCHET_MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${RICOCHET_MINGW_PREFIX}-g++)
set(CMAKE_RC_COMPILER ${RICOCHET_MINGW_PREFIX}-windres)

# Debian's MinGW-w64 sysroot. Headers and libraries come only from there
# (and from LUA_DIR), programs only from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${RICOCHET_MINGW_PREFIX})
if(LUA_DIR)
  # LUA_DIR is an ordinary host folder: make it a root so that find_path
  # and find_library do not re-root it under the sysroot.
  get_filename_component(RICOCHET_LUA_ROOT "${LUA_DIR}" ABSOLUTE)
  list(APPEND CMAKE_FIND_ROOT_PATH "${RICOCHET_LUA_ROOT}")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The C runtime is msvcrt.dll, whose printf knows neither %zu nor %jd nor
# %lld on every Windows: use MinGW-w64's own C99 printf family instead.
set(CMAKE_C_FLAGS_INIT "-D__USE_MINGW_ANSI_STDIO=1")

# One self-contained .exe: no libgcc_s_seh-1.dll, no libwinpthread-1.dll.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")

if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(RICOCHET_WINE NAMES wine wine64)
  if(RICOCHET_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${RICOCHET_WINE}")
  endif()
endif()
