// Translation unit that carries the shared precompiled torch header (see cmake/Targets.cmake).
