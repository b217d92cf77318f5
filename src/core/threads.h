// threads.h — the thread pool is OpenMP's. hgrn::num_threads() reads the current limit (OMP_NUM_THREADS or
// set_num_threads); parallel loops in the library use `#pragma omp parallel for` over independent work items
// (batch x head, rows), never over a reduction whose order would change results between thread counts.
#pragma once

namespace hgrn {

int num_threads();
void set_num_threads(int n);  // also sets OpenBLAS's thread count
int thread_index();  // 0 outside a parallel region

}  // namespace hgrn
