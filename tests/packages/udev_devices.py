"""pyudev (libudev): the kernel's devices as udev sees them, through the host's /sys."""
import pyudev

ctx = pyudev.Context()
print("sys_path", ctx.sys_path)
mem = sorted(d.sys_name for d in ctx.list_devices(subsystem="mem"))
print("mem devices", mem)
null = pyudev.Devices.from_name(ctx, "mem", "null")
print("null", null.device_node, null.subsystem, null.driver, null.device_number > 0)
print("null attrs", sorted(null.attributes.available_attributes)[:3])
print("properties", sorted(k for k in null.properties if k in ("DEVNAME", "MAJOR", "MINOR", "SUBSYSTEM")))
