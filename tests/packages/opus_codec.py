"""opuslib (libopus): encode a synthetic tone, decode it, measure the round trip."""
import math
import struct

import opuslib

rate, channels, frame = 48000, 1, 960
encoder = opuslib.Encoder(rate, channels, opuslib.APPLICATION_AUDIO)
encoder.bitrate = 32000
encoder.complexity = 10
decoder = opuslib.Decoder(rate, channels)
packets = []
energy_in = energy_out = 0.0
for n in range(10):
    samples = [int(8000 * math.sin(2 * math.pi * 440 * (n * frame + i) / rate)) for i in range(frame)]
    pcm = struct.pack("<%dh" % frame, *samples)
    packet = encoder.encode(pcm, frame)
    packets.append(len(packet))
    out = decoder.decode(packet, frame)
    decoded = struct.unpack("<%dh" % frame, out)
    energy_in += sum(s * s for s in samples)
    energy_out += sum(s * s for s in decoded)
print("packet sizes", packets)
print("energy ratio", round(energy_out / energy_in, 2))
print("bitrate", encoder.bitrate, "complexity", encoder.complexity)
print("bandwidth", decoder.bandwidth if hasattr(decoder, "bandwidth") else "-")
