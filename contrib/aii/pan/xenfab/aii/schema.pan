@{
    The options of xenfab's AII hook (contrib/aii/AII/xenfab.pm): one entry of a list
    /system/aii/hooks/<method>, which template-library-core's quattor/types/aii.pan types as
    structure_aii_hook (extensible, "module" required). Put contrib/aii/pan on panc's
    include path beside template-library-core, and bind it where the hook is listed:

        include 'xenfab/aii/schema';
        '/system/aii/hooks/configure/0' = dict('module', 'xenfab',
            'profiles', '/var/www/html/profiles', 'output', '/var/lib/xenfab/out',
            'nodhcp', true);
        bind '/system/aii/hooks/configure/0' = xenfab_aii_hook;
}
declaration template xenfab/aii/schema;

# absolute_file_path: template-library-core's pan/types.pan
include 'pan/types';

type xenfab_aii_hook = {
    @{the AII module: AII::xenfab}
    'module' : string with SELF == 'xenfab'
    @{the directory of compiled profiles (xenfab quattor render --profiles)}
    'profiles' : absolute_file_path
    @{xenfab's output tree (--output)}
    'output' : absolute_file_path
    @{the xenfab command (default xenfab, found in PATH)}
    'xenfab' ? string with length(SELF) > 0
    @{render with --no-dhcp: leave the output tree's dhcp/ as it is (aii-dhcp's)}
    'nodhcp' : boolean = false
    @{render with --no-tftp: leave the output tree's tftpboot/ as it is (aii-pxelinux's)}
    'notftp' : boolean = false
};
