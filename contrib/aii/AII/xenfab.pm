# AII hook that runs xenfab from aii-shellfe: renders the fabric of the site's compiled
# profiles when AII configures a host, and switches the host's network boot links when AII
# installs it or sends it to its local disk.
#
# Installed as /usr/lib/perl/AII/xenfab.pm (or anywhere in @INC), and listed in the profile of
# every host xenfab should follow:
#
#   "/system/aii/hooks/configure/0" = dict("module", "xenfab",
#       "profiles", "/var/www/html/profiles", "output", "/var/lib/xenfab/out");
#   "/system/aii/hooks/install/0"   = value("/system/aii/hooks/configure/0");
#   "/system/aii/hooks/boot/0"      = value("/system/aii/hooks/configure/0");
#   "/system/aii/hooks/remove/0"    = value("/system/aii/hooks/configure/0");
#
# Options (in the hook's dict; their pan types are in contrib/aii/pan/xenfab/schema.pan):
# profiles (the directory of compiled profiles, required), output (xenfab's output tree,
# required), xenfab (the command, default "xenfab"), nodhcp and notftp (booleans, default
# false: the render leaves OUT/dhcp/ or OUT/tftpboot/ as it is, for a site that keeps
# aii-dhcp or aii-pxelinux for those; `xenfab quattor render --no-dhcp`, `--no-tftp`).
#
# aii-shellfe runs these hooks from aii-pxelinux, the NBP plug-in: after it has written its
# own links, each of its methods runs /system/aii/hooks/<method> (aii-pxelinux's pxelinux.pm,
# `_exec_userhooks`), so a host needs /system/aii/nbp/pxelinux, and `--nonbp` runs none.
#
# Values from the profile are passed as arguments only: options as `--name=value` and the
# host after `--`, so that none of them is read as another option.
package AII::xenfab;

use strict;
use warnings;

# The trees rendered by this aii-shellfe run (one process): `--configure` over N hosts runs
# the configure hook N times, and the first render has already written the whole fabric.
my %rendered;

sub new
{
    my ($class) = @_;
    return bless {}, $class;
}

# The hook's options from the profile: $path is where aii-shellfe found this hook.
sub _options
{
    my ($config, $path) = @_;
    my $tree = $config->getElement($path)->getTree();
    foreach my $required (qw(profiles output)) {
        die "AII::xenfab: $path/$required is not set\n" unless defined $tree->{$required};
    }
    $tree->{xenfab} ||= 'xenfab';
    return $tree;
}

# Whether a boolean option is set: CCM's getTree gives a pan boolean as 1 or 0 (older
# versions as "true" or "false").
sub _set
{
    my ($value) = @_;
    return defined($value) && $value ne '' && $value ne '0' && lc($value) ne 'false';
}

sub _hostname
{
    my ($config) = @_;
    return $config->getElement('/system/network/hostname')->getValue();
}

sub _run
{
    my @command = @_;
    system(@command) == 0 or die "AII::xenfab: @command failed: exit " . ($? >> 8) . "\n";
    return 1;
}

# aii-shellfe --configure: render the whole fabric (only what changed is written), once a run
# for each profiles directory and output tree.
sub configure
{
    my ($self, $config, $path) = @_;
    my $o = _options($config, $path);
    my $key = join("\0", $o->{profiles}, $o->{output});
    return 1 if $rendered{$key};
    my @leave;
    push(@leave, '--no-dhcp') if _set($o->{nodhcp});
    push(@leave, '--no-tftp') if _set($o->{notftp});
    _run($o->{xenfab}, 'quattor', 'render', "--profiles=$o->{profiles}", "--output=$o->{output}",
        @leave);
    $rendered{$key} = 1;
    return 1;
}

# `xenfab boot` of this host into $state.
sub _boot
{
    my ($config, $path, $state) = @_;
    my $o = _options($config, $path);
    return _run($o->{xenfab}, 'boot', "--profiles=$o->{profiles}", "--output=$o->{output}",
        '--', _hostname($config), $state);
}

# aii-shellfe --install: the host installs at its next network boot.
sub install
{
    my ($self, $config, $path) = @_;
    return _boot($config, $path, 'install');
}

# aii-shellfe --boot and --remove: the host boots its local disk.
sub boot
{
    my ($self, $config, $path) = @_;
    return _boot($config, $path, 'localboot');
}

sub remove
{
    my ($self, $config, $path) = @_;
    return $self->boot($config, $path);
}

1;
