/* Test helper for the Windows suite, run under Wine beside the host (built
 * with mingw-w64 by tests/windows/lib/wine.mjs; never shipped):
 *
 *   wintool cred-read <target>    prints the generic credential's secret
 *                                 (UTF-16 blob as UTF-8); exit 1: none
 *   wintool cred-list             prints every generic credential's target
 *   wintool cred-delete <target>  deletes it (what an earlier run left)
 *   wintool record <file> <arg>   appends <arg> and a newline to <file>: the
 *                                 tel: URL protocol handler the suite registers
 */
#include <windows.h>
#include <wincred.h>
#include <stdio.h>
#include <string.h>

static void put_utf8(const wchar_t *w, int len)
{
    char buf[4096];
    int n = WideCharToMultiByte(CP_UTF8, 0, w, len, buf, sizeof buf - 1, NULL, NULL);
    fwrite(buf, 1, n > 0 ? n : 0, stdout);
}

int wmain(int argc, wchar_t **argv)
{
    if (argc == 3 && wcscmp(argv[1], L"cred-read") == 0) {
        PCREDENTIALW cred;
        if (!CredReadW(argv[2], CRED_TYPE_GENERIC, 0, &cred)) {
            fprintf(stderr, "no credential (error %lu)\n", GetLastError());
            return 1;
        }
        put_utf8((const wchar_t *)cred->CredentialBlob, cred->CredentialBlobSize / 2);
        CredFree(cred);
        return 0;
    }
    if (argc == 2 && wcscmp(argv[1], L"cred-list") == 0) {
        DWORD count = 0;
        PCREDENTIALW *creds;
        if (!CredEnumerateW(NULL, 0, &count, &creds))
            return 0; /* ERROR_NOT_FOUND: none */
        for (DWORD i = 0; i < count; i++) {
            put_utf8(creds[i]->TargetName, (int)wcslen(creds[i]->TargetName));
            fputs("\n", stdout);
        }
        CredFree(creds);
        return 0;
    }
    if (argc == 3 && wcscmp(argv[1], L"cred-delete") == 0)
        return CredDeleteW(argv[2], CRED_TYPE_GENERIC, 0) ? 0 : 1;
    if (argc == 4 && wcscmp(argv[1], L"record") == 0) {
        FILE *f = _wfopen(argv[2], L"ab");
        if (!f)
            return 2;
        char buf[4096];
        int n = WideCharToMultiByte(CP_UTF8, 0, argv[3], -1, buf, sizeof buf, NULL, NULL);
        if (n > 0)
            fwrite(buf, 1, n - 1, f);
        fputs("\n", f);
        fclose(f);
        return 0;
    }
    fputs("usage: wintool cred-read <target> | cred-list | cred-delete <target> | record <file> <arg>\n", stderr);
    return 2;
}
