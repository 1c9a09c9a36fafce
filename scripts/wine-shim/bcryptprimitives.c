/*
 * Test-only stand-in for bcryptprimitives.dll under Wine 8 (Debian 12), which lacks it.
 * Rust's standard library on Windows 10+ gets random bytes from ProcessPrng in that DLL;
 * this forwards to RtlGenRandom (advapi32 SystemFunction036), which Wine has. It is
 * installed into the throwaway wine prefix by scripts/windows-smoke.sh, never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
