"""Video detection and tracking of drones (视频探测): motion detection with a shipped
classifier by default, or any YOLO-format ONNX model the user supplies."""
