// Test-only: a kernel that writes 1 TiB past the buffer it is given, so the device faults with an illegal
// address (a sticky error: the context is lost). The device check runs it in a child JVM to see the backend
// report DEVICE_LOST, the engine answer on the CPU, and the device dropped. Never part of the backend.
extern "C" __global__ void mp_oob(float* p) {
    p[(1LL << 40) / 4 + threadIdx.x] = 1.0f;
}
