# Tests the AII hook with a stand-in for CCM's configuration and a stub xenfab that records
# its arguments: each aii-shellfe phase runs the xenfab command it should.
use strict;
use warnings;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/..";
use Test::More tests => 6;

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
open(my $fh, '>', $stub) or die; print $fh "#!/bin/sh\necho \"\$*\" >> '$log'\n"; close $fh; chmod 0755, $stub;

my $hook = '/system/aii/hooks/configure/0';
my $config = Fake::Config->new(
    $hook => { module => 'xenfab', profiles => '/srv/profiles', output => '/srv/xenfab', xenfab => $stub },
    '/system/network/hostname' => 'xen01',
);
my $aii = AII::xenfab->new();

sub last_call { open(my $in, '<', $log) or return ''; my @l = <$in>; chomp(my $l = $l[-1] // ''); return $l }

ok($aii->configure($config, $hook), 'configure runs');
is(last_call(), 'quattor render --profiles /srv/profiles -o /srv/xenfab', 'configure renders the fabric of the profiles');
$aii->install($config, $hook);
is(last_call(), 'boot xen01 install --profiles /srv/profiles -o /srv/xenfab', 'install switches the host to install');
$aii->boot($config, $hook);
is(last_call(), 'boot xen01 localboot --profiles /srv/profiles -o /srv/xenfab', 'boot switches the host to its local disk');

my $bad = Fake::Config->new($hook => { module => 'xenfab', profiles => '/srv/profiles' }, '/system/network/hostname' => 'xen01');
eval { $aii->configure($bad, $hook) };
like($@, qr{\Q$hook\E/output is not set}, 'a missing option is a clear error');

my $failing = Fake::Config->new($hook => { profiles => 'p', output => 'o', xenfab => '/bin/false' }, '/system/network/hostname' => 'x');
eval { $aii->configure($failing, $hook) };
like($@, qr{failed: exit 1}, 'a failing xenfab fails the hook');
