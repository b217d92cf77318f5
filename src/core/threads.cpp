// threads.cpp — OpenMP wrappers declared in threads.h.
#include "core/threads.h"

#include <omp.h>

namespace hgrn {

int num_threads() { return omp_get_max_threads(); }
void set_num_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }
int thread_index() { return omp_get_thread_num(); }

}  // namespace hgrn
