// threads.cpp — OpenMP wrappers declared in threads.h.
#include "core/threads.h"

#include <cblas.h>
#include <omp.h>

namespace hgrn {

int num_threads() { return omp_get_max_threads(); }
void set_num_threads(int n) {  // OpenMP's pool and OpenBLAS's own pool (the pthread build keeps a separate one)
    omp_set_num_threads(n > 0 ? n : 1);
    openblas_set_num_threads(n > 0 ? n : 1);
}
int thread_index() { return omp_get_thread_num(); }

}  // namespace hgrn
