set terminal pngcairo size 900,560 font ",11"
set output 'latency-cdf.png'
set title 'Long-polling ping-pong round trip (CDF)'
set xlabel 'round-trip latency (ms, log scale)'
set ylabel 'fraction of round trips'
set logscale x
set grid
set key top left
set yrange [0:1]
plot 'cdf-bayeux-glib-cometd.dat' using 1:2 with lines lw 2 title 'bayeux-glib on cometd (p50 0.59 ms)', \
     'cdf-cometd-js-cometd.dat' using 1:2 with lines lw 2 title 'cometd-js on cometd (p50 1.82 ms)', \
     'cdf-bayeux-glib-faye.dat' using 1:2 with lines lw 2 title 'bayeux-glib on faye (p50 3.16 ms)', \
     'cdf-faye-node-faye.dat' using 1:2 with lines lw 2 title 'faye-node on faye (p50 6.56 ms)'
