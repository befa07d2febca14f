# Tests the AII hook with a stand-in for CCM's configuration and a stub xenfab that records
# its arguments: each aii-shellfe phase runs the xenfab command it should.
use strict;
use warnings;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/..";
use Test::More tests => 15;

use AII::xenfab;

# A minimal stand-in for EDG::WP4::CCM::CacheManager::Configuration.
package Fake::Element { sub new { my ($c, $v) = @_; bless { v => $v }, $c } sub getTree { $_[0]{v} } sub getValue { $_[0]{v} } }
package Fake::Config {
    sub new { my ($c, %paths) = @_; bless {%paths}, $c }
    sub getElement { my ($self, $path) = @_; die "no $path\n" unless exists $self->{$path}; Fake::Element->new($self->{$path}) }
}
package main;

my $dir = tempdir(CLEANUP => 1);
my $log = "$dir/log";
my $stub = "$dir/xenfab";
# the stub logs its arguments as one line, and each in <> on a line of $log.args
open(my $fh, '>', $stub) or die;
print $fh "#!/bin/sh\necho \"\$*\" >> '$log'\nprintf '<%s>' \"\$@\" >> '$log.args'\necho >> '$log.args'\n";
close $fh; chmod 0755, $stub;

my $hook = '/system/aii/hooks/configure/0';
my $config = Fake::Config->new(
    $hook => { module => 'xenfab', profiles => '/srv/profiles', output => '/srv/xenfab', xenfab => $stub },
    '/system/network/hostname' => 'xen01',
);
my $aii = AII::xenfab->new();

sub last_call { open(my $in, '<', $log) or return ''; my @l = <$in>; chomp(my $l = $l[-1] // ''); return $l }

ok($aii->configure($config, $hook), 'configure runs');
is(last_call(), 'quattor render --profiles=/srv/profiles --output=/srv/xenfab', 'configure renders the fabric of the profiles');
$aii->install($config, $hook);
is(last_call(), 'boot --profiles=/srv/profiles --output=/srv/xenfab -- xen01 install', 'install switches the host to install');
$aii->boot($config, $hook);
is(last_call(), 'boot --profiles=/srv/profiles --output=/srv/xenfab -- xen01 localboot', 'boot switches the host to its local disk');

# --configure over several hosts: one render a run
sub calls { open(my $in, '<', $log) or return 0; my @l = <$in>; return scalar grep { /^quattor render/ } @l }
my $xen02 = Fake::Config->new(%$config, '/system/network/hostname' => 'xen02');
$aii->configure($xen02, $hook);
$aii->configure($config, $hook);
is(calls(), 1, 'configure renders once a run, whatever the number of hosts');
my $other = Fake::Config->new(%$config, $hook => { %{ $config->{$hook} }, output => '/srv/other' });
$aii->configure($other, $hook);
is(calls(), 2, 'another output tree is rendered too');

# a host name or option value that looks like an option stays an argument
my $odd = Fake::Config->new($hook => { %{ $config->{$hook} }, profiles => '-x' }, '/system/network/hostname' => '--example');
$aii->install($odd, $hook);
is(last_call(), 'boot --profiles=-x --output=/srv/xenfab -- --example install', 'values are never options');

# with the real xenfab: a value after `--` is the host, not --example
SKIP: {
    my $xenfab = "$FindBin::Bin/../../../target/debug/xenfab";
    skip 'target/debug/xenfab not built', 1 unless -x $xenfab;
    my $real = `'$xenfab' boot --example --output=$dir -- --example 2>&1`;
    like($real, qr/no host `--example` in the fabric/, 'xenfab reads the value after -- as the host');
}

# nodhcp and notftp: --no-dhcp and --no-tftp, each an argument of its own
sub last_args { open(my $in, '<', "$log.args") or return ''; my @l = <$in>; chomp(my $l = $l[-1] // ''); return $l }
my %base = %{ $config->{$hook} };
my @cases = (
    [{ nodhcp => 1 }, '<--no-dhcp>', 'nodhcp renders with --no-dhcp'],
    [{ notftp => 'true' }, '<--no-tftp>', 'notftp renders with --no-tftp'],
    [{ nodhcp => 1, notftp => 1 }, '<--no-dhcp><--no-tftp>', 'both, as two arguments'],
    [{ nodhcp => 0, notftp => 'false' }, '', 'false leaves them out'],
);
my $n = 0;
foreach my $case (@cases) {
    my ($options, $more, $name) = @$case;
    my $c = Fake::Config->new(%$config, $hook => { %base, %$options, output => '/srv/leave' . $n++ });
    $aii->configure($c, $hook);
    my $out = '/srv/leave' . ($n - 1);
    is(last_args(), "<quattor><render><--profiles=/srv/profiles><--output=$out>$more", $name);
}
$aii->install(Fake::Config->new(%$config, $hook => { %base, nodhcp => 1, notftp => 1 }), $hook);
is(last_call(), 'boot --profiles=/srv/profiles --output=/srv/xenfab -- xen01 install', 'install passes neither');

my $bad = Fake::Config->new($hook => { module => 'xenfab', profiles => '/srv/profiles' }, '/system/network/hostname' => 'xen01');
eval { $aii->configure($bad, $hook) };
like($@, qr{\Q$hook\E/output is not set}, 'a missing option is a clear error');

my $failing = Fake::Config->new($hook => { profiles => 'p', output => 'o', xenfab => '/bin/false' }, '/system/network/hostname' => 'x');
eval { $aii->configure($failing, $hook) };
like($@, qr{failed: exit 1}, 'a failing xenfab fails the hook');
