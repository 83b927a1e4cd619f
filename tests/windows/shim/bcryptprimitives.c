/* Test setup only: Wine 8 has no bcryptprimitives.dll, and Rust's standard
 * library on Windows takes its randomness from ProcessPrng there (Windows 10
 * and later ship the DLL, so the MSI and real machines never use this).
 * ProcessPrng(buffer, length) -> TRUE, over advapi32's RtlGenRandom
 * (SystemFunction036), which Wine implements. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
