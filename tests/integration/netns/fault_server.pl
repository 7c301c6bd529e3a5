#!/usr/bin/perl
# Misbehaving TCP servers for the probe fault tests (perl-base only, so nothing to install).
# usage: fault_server.pl MODE ADDR PORT
#   silent   accept every connection and never send a byte
#   garbage  answer every request with bytes that are not HTTP, then close
#   short    promise a 1 MB body (Content-Length), send 100 bytes, close
#   trickle  send a valid header, then one body byte every 2 s
use strict;
use warnings;
use IO::Socket::INET;

my ($mode, $addr, $port) = @ARGV;
die "usage: $0 silent|garbage|short|trickle ADDR PORT\n" unless $mode && $addr && $port;
$SIG{PIPE} = 'IGNORE';
my $srv = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Listen => 128, ReuseAddr => 1, Proto => 'tcp')
    or die "listen $addr:$port: $!\n";
my @held;
while (my $c = $srv->accept) {
    if ($mode eq 'silent') { push @held, $c; next; }
    my $req = '';
    while (defined(my $line = <$c>)) { $req .= $line; last if $line =~ /^\r?\n$/; }
    if ($mode eq 'garbage') {
        print $c "\x00\xff\xfe SSH-2.0-not-http\r\n" . ("\x13\x37" x 200);
    } elsif ($mode eq 'short') {
        print $c "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n" . ("x" x 100);
    } elsif ($mode eq 'trickle') {
        my $pid = fork();
        if (defined $pid && $pid == 0) {
            print $c "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
            for (1 .. 1000) { $c->autoflush(1); print $c "x" or exit 0; sleep 2; }
            exit 0;
        }
    }
    close $c;
}
