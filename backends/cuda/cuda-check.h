/* SPDX-License-Identifier: MIT */
/*
 * cuda-check.h - CUDA, cuBLAS and NCCL status codes turned into GErrors at the boundary.
 *
 * One family of macros, modelled on nccl-tests' CUDACHECK/NCCLCHECK (STYLE §2.4 rule 5): each
 * evaluates a call once and, when it fails, sets @error to AFD_ERROR_BACKEND_FAILED with
 * "FILE:LINE: CALL: LIBRARY ERROR STRING" and returns @ret from the enclosing function.
 * Nothing outside backends/cuda/ ever sees a cudaError_t, cublasStatus_t or ncclResult_t.
 * This header is private to backends/cuda/.
 */
#ifndef AFD_BACKENDS_CUDA_CUDA_CHECK_H
#define AFD_BACKENDS_CUDA_CUDA_CHECK_H

#include <glib.h>

/* The CUDA and NCCL headers are not written for -Wundef/-Wstrict-prototypes C. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#ifdef AFD_HAVE_NCCL
#include <nccl.h>
#endif
#pragma GCC diagnostic pop

#include "sim/error.h"

/* cudaErrorMemoryAllocation is reported with a hint: the most common bad environment. */
#define AFD_CUDA_CHECK(call, error, ret)                                                      \
  G_STMT_START                                                                                \
  {                                                                                           \
    cudaError_t afd_cuda_status_ = (call);                                                    \
    if (afd_cuda_status_ != cudaSuccess)                                                      \
      {                                                                                       \
        (void) cudaGetLastError (); /* clear a sticky-free error so later calls can report */ \
        g_set_error ((error), AFD_ERROR, AFD_ERROR_BACKEND_FAILED, "%s:%d: %s: CUDA error: %s%s", \
                     __FILE__, __LINE__, #call, cudaGetErrorString (afd_cuda_status_),        \
                     afd_cuda_status_ == cudaErrorMemoryAllocation                            \
                         ? " (out of device memory: try --quick or fewer/smaller shapes)"    \
                         : "");                                                               \
        return ret;                                                                           \
      }                                                                                       \
  }                                                                                           \
  G_STMT_END

#define AFD_CUBLAS_CHECK(call, error, ret)                                                    \
  G_STMT_START                                                                                \
  {                                                                                           \
    cublasStatus_t afd_cublas_status_ = (call);                                               \
    if (afd_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                          \
      {                                                                                       \
        g_set_error ((error), AFD_ERROR, AFD_ERROR_BACKEND_FAILED, "%s:%d: %s: cuBLAS error: %s", \
                     __FILE__, __LINE__, #call, cublasGetStatusString (afd_cublas_status_));  \
        return ret;                                                                           \
      }                                                                                       \
  }                                                                                           \
  G_STMT_END

#ifdef AFD_HAVE_NCCL
/* ncclInProgress is not an error: nonblocking communicators return it while work proceeds. */
#define AFD_NCCL_CHECK(call, error, ret)                                                      \
  G_STMT_START                                                                                \
  {                                                                                           \
    ncclResult_t afd_nccl_status_ = (call);                                                   \
    if (afd_nccl_status_ != ncclSuccess && afd_nccl_status_ != ncclInProgress)                \
      {                                                                                       \
        g_set_error ((error), AFD_ERROR, AFD_ERROR_BACKEND_FAILED, "%s:%d: %s: NCCL error: %s", \
                     __FILE__, __LINE__, #call, ncclGetErrorString (afd_nccl_status_));       \
        return ret;                                                                           \
      }                                                                                       \
  }                                                                                           \
  G_STMT_END
#endif

#endif /* AFD_BACKENDS_CUDA_CUDA_CHECK_H */
