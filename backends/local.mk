# SPDX-License-Identifier: MIT
# backends/local.mk - cost providers. backends/cuda.mk holds the optional CUDA/NCCL part.
