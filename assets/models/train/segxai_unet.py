"""A MONAI-style 3D U-Net in plain PyTorch (MONAI is not a Debian package).

The module tree matches monai.networks.nets.UNet with num_res_units=0, so layer paths read the
same as for a MONAI model (`model.1.submodule.1.submodule.2`, ...): each level is
Sequential(down, SkipConnection(submodule), up), a Convolution is Sequential(conv, adn), and
the top up-convolution is a bare transposed convolution.
"""
import torch
from torch import nn


class ADN(nn.Sequential):
    """Normalisation then activation, as MONAI's ADN with ordering 'NDA'."""

    def __init__(self, channels, norm):
        super().__init__()
        if norm == "instance":
            self.add_module("N", nn.InstanceNorm3d(channels))
        elif norm == "batch":
            self.add_module("N", nn.BatchNorm3d(channels))
        self.add_module("A", nn.PReLU())


class Convolution(nn.Sequential):
    def __init__(self, in_channels, out_channels, stride, norm, transposed=False, conv_only=False):
        super().__init__()
        if transposed:
            conv = nn.ConvTranspose3d(in_channels, out_channels, 3, stride=stride, padding=1,
                                      output_padding=stride - 1)
        else:
            conv = nn.Conv3d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.add_module("conv", conv)
        if not conv_only:
            self.add_module("adn", ADN(out_channels, norm))


class SkipConnection(nn.Module):
    def __init__(self, submodule):
        super().__init__()
        self.submodule = submodule

    def forward(self, x):
        return torch.cat([x, self.submodule(x)], dim=1)


class UNet(nn.Module):
    def __init__(self, in_channels, out_channels, channels=(16, 32, 64, 128), strides=(2, 2, 2),
                 norm="instance"):
        super().__init__()
        assert len(channels) == len(strides) + 1

        def block(inc, outc, chans, strs, is_top):
            c, s = chans[0], strs[0]
            if len(chans) > 2:
                sub = block(c, c, chans[1:], strs[1:], False)
                upc = c * 2
            else:
                sub = Convolution(c, chans[1], 1, norm)
                upc = c + chans[1]
            down = Convolution(inc, c, s, norm)
            up = Convolution(upc, outc, s, norm, transposed=True, conv_only=is_top)
            return nn.Sequential(down, SkipConnection(sub), up)

        self.model = block(in_channels, out_channels, channels, strides, True)

    def forward(self, x):
        return self.model(x)
